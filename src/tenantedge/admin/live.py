"""`/ws` on the admin host: events streamed to dashboards, live previews and `tenantedge watch`.

The handshake is checked before it is accepted: the `Origin` (browsers send one) must be in the allowlist.
The token comes in the `Authorization` header or, for browsers that cannot set headers, in the first message
`{"token": "…"}`. Query parameters `tenant` (repeatable) and `since` (the last `seq` seen) may also come in that
first message, as `"tenants": [...]` and `"since": n`; one that is not what it should be closes the socket with
code 4400 and a reason naming it. A client is sent `{"type": "hello", "seq": n}`, then what it missed since `since` (or
`{"type": "reload"}` when that is no longer kept), then every event as it happens. A client that reads
too slowly to keep up is disconnected (code 4008) rather than allowed to grow this worker's memory.
A wrong token closes the socket with code 4401, or 4429 once its address or the token itself is over the
failure budget (tenantedge.admin.limiter); a valid token is always accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from tenantedge.admin.auth import Grant, TokenRing
from tenantedge.admin.console import COOKIE
from tenantedge.admin.limiter import FailureLimiter, peer, retry_after
from tenantedge.admin.responses import bearer
from tenantedge.errors import BackendError
from tenantedge.events import Event, EventBus
from tenantedge.integers import bounded_integer
from tenantedge.tenants import TENANT_ID

log = logging.getLogger("tenantedge.live")

TOO_SLOW = 4008
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
TOO_MANY_FAILURES = 4429
MAX_SEQ = (1 << 63) - 1  # the bus's sequence is a Redis counter


@dataclass(eq=False, slots=True)
class _Client:
    grant: Grant
    tenants: frozenset[str] | None
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(256))
    dropped: bool = False

    def wants(self, event: Event) -> bool:
        return self.grant.allows(event.tenant) and (self.tenants is None or event.tenant in self.tenants)


class LiveHub:
    """The WebSocket clients of one worker, fed from the bus this worker listens to."""

    def __init__(
        self,
        bus: EventBus,
        tokens: TokenRing,
        limiter: FailureLimiter,
        origins: frozenset[str],
        *,
        queue_size: int = 256,
        auth_timeout: float = 5.0,
    ) -> None:
        self._bus = bus
        self._tokens = tokens
        self._limiter = limiter
        self._origins = origins
        self._queue_size = queue_size
        self._auth_timeout = auth_timeout
        self._clients: set[_Client] = set()
        bus.subscribe(self._deliver)

    @property
    def clients(self) -> int:
        return len(self._clients)

    def _deliver(self, event: Event) -> None:
        for client in list(self._clients):
            if client.dropped or not client.wants(event):
                continue
            try:
                client.queue.put_nowait(event)
            except asyncio.QueueFull:
                client.dropped = True  # the sender sees this and closes with TOO_SLOW
                with contextlib.suppress(asyncio.QueueEmpty):
                    client.queue.get_nowait()
                client.queue.put_nowait(None)

    async def endpoint(self, websocket: WebSocket) -> None:
        origin = websocket.headers.get("origin")
        if origin is not None and origin.lower().rstrip("/") not in self._origins:
            await websocket.close(code=1008, reason="origin not allowed")  # before accept: the handshake gets 403
            return
        await websocket.accept()
        try:
            hello = await self._hello(websocket)
        except (TimeoutError, ValueError, WebSocketDisconnect):
            hello = None
        # The dashboard's browser sends its sign-in cookie (the Origin check above keeps other sites out).
        presented = bearer(websocket.headers.get("authorization")) or websocket.cookies.get(COOKIE)
        token = presented or (hello or {}).get("token")
        if not isinstance(token, str):
            token = None  # a first message's token that is not text is no token
        grant = self._tokens.check(token)
        if grant is None:
            wait = await self._limiter.failed(peer(websocket), token)
            if wait > 0:
                reason = f"too many failed attempts; retry after {retry_after(wait)} s"
                await websocket.close(code=TOO_MANY_FAILURES, reason=reason)
            else:
                await websocket.close(code=UNAUTHORIZED, reason="a valid admin token is required")
            return
        try:
            tenants, since = _subscription(websocket, hello or {})
        except ValueError as e:  # the message names since or tenants, and fits a close frame
            await websocket.close(code=BAD_REQUEST, reason=str(e))
            return
        client = _Client(grant, tenants, asyncio.Queue(self._queue_size))
        self._clients.add(client)
        try:
            await self._stream(websocket, client, since)
        except WebSocketDisconnect:
            pass
        finally:
            self._clients.discard(client)

    async def _hello(self, websocket: WebSocket) -> dict[str, Any] | None:
        """The client's first message, when it must carry the token (no Authorization header)."""
        if websocket.headers.get("authorization") or websocket.cookies.get(COOKIE):
            return None
        message = await asyncio.wait_for(websocket.receive(), self._auth_timeout)
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = orjson.loads(message.get("text") or message.get("bytes") or b"")
        if not isinstance(raw, dict):
            raise ValueError("expected a JSON object")
        return raw

    async def _stream(self, websocket: WebSocket, client: _Client, since: int | None) -> None:
        try:
            last = await self._bus.last_seq()
        except BackendError:
            last = 0
        await websocket.send_text(orjson.dumps({"type": "hello", "seq": last}).decode())
        seen = since if since is not None else last
        if since is not None:
            try:
                missed = await self._bus.since(since)
            except BackendError:
                missed = None
            if missed is None:
                await websocket.send_text(orjson.dumps({"type": "reload", "seq": last}).decode())
                seen = last
            else:
                for event in missed:
                    if client.wants(event):
                        await websocket.send_text(event.to_json().decode())
                    seen = event.seq
        reader = asyncio.create_task(_drain(websocket))
        try:
            while True:
                waiting = asyncio.create_task(client.queue.get())
                done, _ = await asyncio.wait({waiting, reader}, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    waiting.cancel()
                    return
                queued = waiting.result()
                if queued is None:
                    log.info("dropped a WebSocket client that could not keep up")
                    await websocket.close(code=TOO_SLOW, reason="too slow: reconnect with since")
                    return
                if queued.seq > seen:
                    await websocket.send_text(queued.to_json().decode())
                    seen = queued.seq
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


def _subscription(websocket: WebSocket, hello: dict[str, Any]) -> tuple[frozenset[str] | None, int | None]:
    """The tenants a client asked for (None: all it may see) and the `seq` it saw last, from the first message or
    else the query; ValueError (its text fits a close frame's 123 bytes) for a value that is neither."""
    wanted: object = hello.get("tenants")
    if wanted is None:
        wanted = websocket.query_params.getlist("tenant") or None
    if wanted is not None and (
        not isinstance(wanted, list) or not all(isinstance(t, str) and TENANT_ID.match(t) for t in wanted)
    ):
        raise ValueError("tenants: expected a list of tenant ids")
    raw = hello.get("since")
    if raw is None:
        raw = websocket.query_params.get("since")
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    since = bounded_integer(text, 0, MAX_SEQ) if isinstance(text, str) else None
    if raw is not None and since is None:
        raise ValueError(f"since: expected a seq from 0 to {MAX_SEQ} (ASCII digits)")
    return (frozenset(wanted) if wanted else None), since
