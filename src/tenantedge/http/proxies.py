"""Trusted reverse proxies: the networks whose peers' X-Forwarded-Host and X-Forwarded-Proto the edge believes."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def trust_checker(networks: tuple[IPNetwork, ...]) -> Callable[[Scope], bool]:
    """Whether a request's peer is one of the trusted proxies (remembered per address)."""

    @lru_cache(maxsize=1024)
    def trusted_ip(ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in networks)

    def check(scope: Scope) -> bool:
        client = scope.get("client")
        return bool(networks) and client is not None and trusted_ip(client[0])

    return check
