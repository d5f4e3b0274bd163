"""Trusted reverse proxies: the networks whose peers' X-Forwarded-Host and X-Forwarded-Proto the edge believes."""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
