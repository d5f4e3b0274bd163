"""uvicorn's httptools protocol, plus one ASGI extension: a response whose head was serialised in advance.

A cached page's status line aside, its headers never change, so the edge serialises them once, when the page
is stored. With the `tenantedge.prepared` extension in the scope, the app hands the server that head and the
body in one call, and the server writes them in one `write`: no per-request header checks, lowercasing and
joining, and one syscall instead of two. Everything else (and any server without the extension) goes through
the ordinary `http.response.start` and `http.response.body` messages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from tenantedge.pagecache import Header

PREPARED = "tenantedge.prepared"
_CONNECTION_CLOSE = b"connection: close\r\n"
# send(send, status, headers, head, body): `head` is `headers` serialised; `headers` is what a fallback sends.
SendPrepared = Callable[[Any, int, Sequence[Header], bytes, bytes], Awaitable[None]]


async def send_prepared(send: Any, status: int, headers: Sequence[Header], head: bytes, body: bytes) -> None:
    """Write a whole response at once; through the ordinary messages when `send` is not uvicorn's own."""
    cycle = getattr(send, "__self__", None)
    if type(cycle) is not RequestResponseCycle:  # wrapped by middleware, say: nothing to write to directly
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    # What uvicorn's own `send` does for a start message and a complete body, in one go.
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    if cycle.response_started:
        raise RuntimeError("a prepared response was sent after the response had started")
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    scope = cycle.scope
    if cycle.access_log:
        cycle.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(scope),
            scope["method"],
            get_path_with_query_string(scope),
            scope["http_version"],
            status,
        )
    closing = b"" if cycle.keep_alive else _CONNECTION_CLOSE
    if scope["method"] == "HEAD":
        body = b""
    cycle.transport.write(
        b"".join((STATUS_LINE[status], _defaults(cycle.default_headers), head, closing, b"\r\n", body))
    )
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()


class PreparedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, offering the `tenantedge.prepared` extension in every HTTP scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope.setdefault("extensions", {})[PREPARED] = _OFFER


_OFFER: dict[object, object] = {"send": send_prepared}


_serialised_defaults: tuple[list[tuple[bytes, bytes]] | None, bytes] = (None, b"")


def _defaults(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The server's own headers (date, server): a new list once a second, serialised once per list."""
    global _serialised_defaults
    seen, lines = _serialised_defaults
    if default_headers is not seen:
        lines = b"".join(b"%s: %s\r\n" % (name.lower(), value) for name, value in default_headers)
        _serialised_defaults = (default_headers, lines)
    return lines
