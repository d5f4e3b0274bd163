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


def client_address(scope: Scope, networks: tuple[IPNetwork, ...]) -> str | None:
    """The visitor's address: the peer, or, when the peer is a trusted proxy, the last address of
    `X-Forwarded-For` that is not one of the trusted proxies (the ones before it could be made up by the client)."""
    client = scope.get("client")
    peer: str | None = client[0] if client else None
    if peer is None or not networks or not _trusted(peer, networks):
        return peer
    forwarded = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"x-forwarded-for"]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a malformed hop: nothing before it can be believed
        if not _trusted(address, networks):
            return address
    return hops[0] if hops else peer


def _trusted(ip: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)
