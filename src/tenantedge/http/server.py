"""uvicorn's httptools protocol, hardened for the open internet and with a shortcut for prepared responses.

Over uvicorn it adds:

- Limits (`tenantedge.http.limits`): a request head is counted as it arrives and refused at once when too
  big (414 for the URL, 431 for the head or its number of headers), so memory stays bounded whatever a client
  sends; a head must be complete within a timeout (408), and a worker takes a bounded number of connections,
  closing the longest idle one, or refusing the new one (503), at its cap.
- Absolute-form request targets (`GET http://host/path`): the target's authority replaces the Host header
  (RFC 9112 section 3.2.2), and the path and query are served as usual.
- The `tenantedge.prepared` extension: a cached page's status line aside, its headers never change, so the
  edge serialises them once, when the page is stored. With the extension in the scope, the app hands the
  server that head and the body in one call, and the server writes them in one `write`: no per-request
  header checks, lowercasing and joining, and one syscall instead of two. Everything else (and any server
  without the extension) goes through the ordinary `http.response.start` and `http.response.body` messages.

Each override replaces or extends a method of uvicorn's `HttpToolsProtocol`; tests/http/test_server.py pins
the uvicorn code they mirror, so an upgrade that changes it fails there first.
"""

from __future__ import annotations

import asyncio
import functools
import re
import weakref
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, cast

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string
from uvicorn.server import ServerState

from tenantedge.errors import RequestRefused
from tenantedge.http.limits import ConnectionSlots, HttpLimits, refusal
from tenantedge.pagecache import Header

PREPARED = "tenantedge.prepared"
_DEFAULT_LIMITS = HttpLimits()
_CONNECTION_CLOSE = b"connection: close\r\n"
# send(send, status, headers, head, body, extra): `head` is `headers` serialised; `headers` is what a fallback
# sends; `extra`, one more header of this response alone (a request id), goes in both without copying `head`.
SendPrepared = Callable[[Any, int, Sequence[Header], bytes, bytes, Header | None], Awaitable[None]]


async def send_prepared(
    send: Any, status: int, headers: Sequence[Header], head: bytes, body: bytes, extra: Header | None
) -> None:
    """Write a whole response at once; through the ordinary messages when `send` is not uvicorn's own."""
    cycle = getattr(send, "__self__", None)
    if type(cycle) is not RequestResponseCycle:  # wrapped by middleware, say: nothing to write to directly
        if extra is not None:
            headers = (*headers, extra)
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
    defaults = _defaults(cycle.default_headers)
    if extra is None:
        cycle.transport.write(b"".join((STATUS_LINE[status], defaults, head, closing, b"\r\n", body)))
    else:
        name, value = extra
        line = (name, b": ", value, b"\r\n")
        cycle.transport.write(b"".join((STATUS_LINE[status], defaults, head, *line, closing, b"\r\n", body)))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()


class PreparedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits, absolute-form targets and the `tenantedge.prepared` extension."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HttpLimits = _DEFAULT_LIMITS,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        self._slots = _SLOTS.get(server_state) or _SLOTS.setdefault(server_state, ConnectionSlots())
        self._waiting_since = 0.0
        self._waiting = False  # nothing of a request received since connecting or since the last response
        self._begun = False  # a request has begun and its head is not complete
        self._reading_head = True  # bytes received count against `_head_left`; -1 once refused: dropped
        self._head_left = limits.max_header_bytes
        # A request that began in the read that ended the one before is pipelined: part of its head went by
        # uncounted (at most one read), so its head is measured once complete.
        self._message_ended_in_read = self._measure_head = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap, open_connections = self._limits.max_connections, len(self.connections)
        if open_connections > cap:
            if not self._slots.make_room(open_connections, cap):
                self._refuse(HTTPStatus.SERVICE_UNAVAILABLE)
                return
        elif self._slots.at_cap and open_connections < cap * 0.9:
            self._slots.below_cap()
        self._wait()
        self.timeout_keep_alive_task = self.loop.call_later(
            self._limits.header_timeout, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiting:
            self._waiting = False
            self._slots.waiting.pop(self.transport, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's, except that its keep-alive timer keeps running: bytes alone do not buy a client more time.
        self._message_ended_in_read = False
        if self._waiting:
            self._waiting = False
            self._slots.waiting.pop(self.transport, None)
        if self._reading_head:
            left = self._head_left - len(data)
            if left < 0:
                self._receive_past_budget(data)
                return
            self._head_left = left
        try:  # `_feed`, inline: this is every request's path
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._upgrade()
        except httptools.HttpParserError:
            self._unparseable()

    def _receive_past_budget(self, data: bytes) -> None:
        """Feed the parser no more than the head may still use; the rest only once the head is complete."""
        allowed = self._head_left
        if allowed < 0 or self.transport.is_closing():
            return
        self._head_left = 0
        self._feed(data[:allowed])
        if self.transport.is_closing() or self.transport.get_protocol() is not self:  # refused, or upgraded
            return
        if self._reading_head and self._head_left == 0:  # still in the same head: a new one gets a new budget
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        else:
            self.data_received(data[allowed:])

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._upgrade()
        except httptools.HttpParserError:
            self._unparseable()

    def _upgrade(self) -> None:
        if self._should_upgrade():
            self.handle_websocket_upgrade()
        else:
            self._unsupported_upgrade_warning()

    def _unparseable(self) -> None:
        if self._head_left >= 0:  # not refused already, by one of the callbacks below
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = True
        self._measure_head = self._message_ended_in_read
        self.scope.setdefault("extensions", {})[PREPARED] = _OFFER

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self._limits.max_url_bytes:
            self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG)
            raise RequestRefused

    def on_headers_complete(self) -> None:
        self._begun = self._reading_head = False
        if len(self.headers) > self._limits.max_headers or (self._measure_head and self._head_too_large()):
            self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            raise RequestRefused
        if not self.url.startswith(b"/") and (absolute := _ABSOLUTE_FORM.fullmatch(self.url)):
            authority, target = absolute.groups()
            if not authority or b"@" in authority:  # RFC 9110 section 4.2.4: userinfo is an error
                self._refuse(HTTPStatus.BAD_REQUEST)
                raise RequestRefused
            self.url = target if target.startswith(b"/") else b"/" + target
            self.headers[:] = [(b"host", authority), *(header for header in self.headers if header[0] != b"host")]
        super().on_headers_complete()

    def _head_too_large(self) -> bool:
        # The request line and header lines as the parser saw them (less any optional whitespace).
        size = len(self.url) + 16 + sum(len(name) + len(value) + 4 for name, value in self.headers)
        return size > self._limits.max_header_bytes

    def on_message_complete(self) -> None:
        self._reading_head, self._head_left = True, self._limits.max_header_bytes  # bytes after it: the next head
        self._message_ended_in_read = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # uvicorn's, except that the connection's one timer is not replaced after every response: it is armed
        # when none runs, and when it fires it counts from `_waiting_since` (timeout_keep_alive_handler).
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._wait()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def _wait(self) -> None:
        self._waiting_since = self.loop.time()
        if not self._begun:
            self._waiting = True
            self._slots.waiting[self.transport] = None

    def timeout_keep_alive_handler(self) -> None:
        """uvicorn's one timer per connection: close it when idle too long, or answer 408 to a head too slow."""
        self.timeout_keep_alive_task = None
        if self.transport.is_closing() or (self.cycle is not None and not self.cycle.response_complete):
            return  # a response is under way; when it is complete, uvicorn arms the timer again
        # A new connection has the header timeout for its first head; a kept-alive one the keep-alive timeout to
        # begin the next, and as long as either to complete it. Both count from connecting or the last response.
        limit = self._limits.header_timeout
        if self.cycle is not None:
            limit = max(limit, self.timeout_keep_alive) if self._begun else self.timeout_keep_alive
        left = self._waiting_since + limit - self.loop.time()
        if left > 0.01:
            self.timeout_keep_alive_task = self.loop.call_later(left, self.timeout_keep_alive_handler)
        elif self._begun:
            self._refuse(HTTPStatus.REQUEST_TIMEOUT)
        else:
            self.transport.close()

    def handle_websocket_upgrade(self) -> None:
        self._unset_keepalive_if_required()  # the timer is for HTTP requests; a WebSocket keeps its own
        super().handle_websocket_upgrade()

    def _refuse(self, status: HTTPStatus) -> None:
        """Answer `status` and close; with a response under way, close after it. Bytes that follow are dropped."""
        self._reading_head, self._head_left = True, -1
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(refusal(status, _defaults(self.server_state.default_headers)))
            self.transport.close()
        else:
            self.cycle.keep_alive = False


def serving_protocol(limits: HttpLimits) -> type[asyncio.Protocol]:
    """The protocol for uvicorn's `http` option, with `limits`; uvicorn only calls it, and a partial pickles
    into every worker process."""
    return cast("type[asyncio.Protocol]", functools.partial(PreparedHttpToolsProtocol, limits=limits))


_ABSOLUTE_FORM = re.compile(rb"(?is)https?://([^/?#]*)(.*)")
_SLOTS: weakref.WeakKeyDictionary[ServerState, ConnectionSlots] = weakref.WeakKeyDictionary()
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
