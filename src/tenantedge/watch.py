"""`tenantedge watch`: print the admin's events as they happen, one JSON line each, for operators."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO
from urllib.parse import urlencode

import orjson

from tenantedge.errors import ConfigError
from tenantedge.settings import Settings


async def watch(
    settings: Settings,
    tenants: list[str],
    *,
    since: int | None = None,
    address: str | None = None,
    out: TextIO = sys.stdout,
    limit: int | None = None,
) -> int:
    """Follow `/ws` on the admin host, reconnecting (and asking for what was missed) until interrupted.

    `address` is where to connect (host:port, default the serve address); the Host header is always the admin
    host. Returns after `limit` events, when given (for scripts and tests).
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    if not settings.admin_token:
        raise ConfigError("tenantedge watch needs TENANTEDGE_ADMIN_TOKEN (the token the server prints at start)")
    host, _, port = (address or f"{settings.host}:{settings.port}").rpartition(":")
    query = urlencode([("tenant", tenant) for tenant in tenants])
    uri = f"ws://{settings.admin_host}:{port}/ws" + (f"?{query}" if query else "")
    headers = {"Authorization": f"Bearer {settings.admin_token}"}
    seen, count, backoff = since, 0, 0.2
    while True:
        try:
            target = f"{uri}{'&' if query else '?'}since={seen}" if seen is not None else uri
            async with connect(target, host=host.strip("[]") or "127.0.0.1", port=int(port),
                               additional_headers=headers) as websocket:  # fmt: skip
                backoff = 0.2
                async for message in websocket:
                    event = orjson.loads(message)
                    if event.get("type") == "hello":
                        seen = event["seq"] if seen is None else seen
                        continue
                    seen = event.get("seq", seen)
                    print(orjson.dumps(event).decode(), file=out, flush=True)
                    count += 1
                    if limit is not None and count >= limit:
                        return 0
        except InvalidStatus as e:
            raise ConfigError(f"{uri}: the server refused the connection ({e.response.status_code})") from e
        except ConnectionClosed as e:
            if e.rcvd is not None and e.rcvd.code == 4401:
                raise ConfigError(f"{uri}: the token was refused") from e
        except (OSError, InvalidHandshake, TimeoutError) as e:
            print(f"tenantedge watch: {e}; reconnecting in {backoff:.1f} s", file=sys.stderr)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 5.0)
