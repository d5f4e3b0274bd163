"""The app as `tenantedge serve` builds it from TENANTEDGE_*, each request seen from an address of its own.

For the conformance test: schemathesis sends wrong and missing tokens on purpose, and the failure limiter, which
counts per client address, would refuse it after the tenth and answer 429 to everything after. Run with
`uvicorn --factory tests.admin.many_clients:app`.
"""

from __future__ import annotations

import ipaddress
import itertools

from starlette.types import ASGIApp, Receive, Scope, Send

from tenantedge.app import create_app
from tenantedge.settings import Settings

_NETWORK = ipaddress.IPv4Network("10.0.0.0/8")


def app() -> ASGIApp:
    inner = create_app(Settings.from_env())
    numbers = itertools.count(1)

    async def each_its_own_client(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            address = _NETWORK[next(numbers) % _NETWORK.num_addresses]
            scope = {**scope, "client": (str(address), 40000)}
        await inner(scope, receive, send)

    return each_its_own_client
