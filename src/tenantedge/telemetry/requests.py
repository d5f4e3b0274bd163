"""What the hot path counts per request: plain integers in lists, which the exporter reads once a second.

Writing each request into prometheus_client's multiprocess files costs a lock and mmap writes per sample (about
2.5 µs an `inc()`, 3.7 µs an `observe()` measured on the bench machine), several times a budget of about 1 µs;
adding to a list costs about 0.1 µs. So requests are counted here, in the worker's own memory, and
`tenantedge.telemetry.export` adds what changed to the shared files every second.
"""

from __future__ import annotations

import enum
import os
from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import count
from time import time_ns
from typing import TYPE_CHECKING

from starlette.types import Message, Scope, Send

from tenantedge.telemetry.logcontext import answering

if TYPE_CHECKING:
    from tenantedge.telemetry.accesslog import AccessLog


class CacheOutcome(enum.IntEnum):
    """How the page cache took part in a response."""

    HIT = 0  # the page cache answered (a 304 from a cached page included)
    MISS = 1  # the page cache had nothing for the path: rendered now, or the tenant's 404 page
    STALE = 2  # a stale copy of the tenant answered while a tier was down
    BYPASS = 3  # the page cache was never asked: /_edge/ paths, redirects, the admin, other methods, errors


HIT, MISS, STALE, BYPASS = CacheOutcome.HIT, CacheOutcome.MISS, CacheOutcome.STALE, CacheOutcome.BYPASS
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
# Upper bounds of the request duration histogram, in seconds (a cached page takes tens of µs).
DURATION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_BOUNDS_NS = [round(bound * 1e9) for bound in DURATION_BUCKETS]
# A status's row in RequestStats.by_class (4 outcomes a row); no status at all (nothing sent) counts as a 5xx.
_CLASS_INDEX = {status: (status // 100 - 1) * len(CacheOutcome) for status in range(100, 600)}
_NO_CLASS = 4 * len(CacheOutcome)
# Per-tenant figures: requests, 4xx, 5xx, body bytes, render ns, page-cache hits, then renders per duration bucket.
REQUESTS, CLIENT_ERRORS, SERVER_ERRORS, BYTES, RENDER_NS, HITS = range(6)
# Upper bounds of the per-tenant render time buckets, in ms; one more bucket counts the renders over the last.
RENDER_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_RENDER_BOUNDS_NS = [bound * 1_000_000 for bound in RENDER_BUCKETS_MS]
RENDERS = 6  # the first bucket's index in a tenant's figures
TENANT_FIGURES = RENDERS + len(RENDER_BUCKETS_MS) + 1
NO_TENANT = "-"
REQUEST_ID = b"x-request-id"
_REQUEST_ID_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:=+/")


class RequestStats:
    """One worker's request counts since it started; only ever added to, so the exporter sends differences."""

    def __init__(self, *, max_tenants: int = 100_000) -> None:
        self.by_class = [0] * (len(STATUS_CLASSES) * len(CacheOutcome))  # status class x cache outcome
        self.durations = [0] * (len(_BOUNDS_NS) + 1)
        self.duration_ns = 0
        # Per tenant since the exporter last took them: bounded, past it new tenants count as NO_TENANT.
        self.tenants: dict[str, list[int]] = {}
        self.max_tenants = max_tenants

    def record(self, status: int, outcome: int, tenant: str, size: int, duration_ns: int, render_ns: int) -> None:
        self.by_class[_CLASS_INDEX.get(status, _NO_CLASS) + outcome] += 1
        self.durations[bisect_left(_BOUNDS_NS, duration_ns)] += 1
        self.duration_ns += duration_ns
        figures = self.tenants.get(tenant)
        if figures is None:
            figures = self._start(tenant)
        figures[0] += 1
        figures[3] += size
        if outcome == 0:
            figures[5] += 1
        elif render_ns:  # a render happens on a miss only: the hit branch above stays two additions
            figures[4] += render_ns
            figures[RENDERS + bisect_left(_RENDER_BOUNDS_NS, render_ns)] += 1
        if status >= 400:
            figures[1 if status < 500 else 2] += 1

    def _start(self, tenant: str) -> list[int]:
        """A tenant's figures, new in this batch; past `max_tenants`, the shared NO_TENANT ones."""
        if len(self.tenants) >= self.max_tenants:
            tenant = NO_TENANT
        return self.tenants.setdefault(tenant, [0] * TENANT_FIGURES)

    def take_tenants(self) -> dict[str, list[int]]:
        """The per-tenant figures since the last call; the next request starts a new batch."""
        taken, self.tenants = self.tenants, {}
        return taken


class Exchange:
    """One request's response as the edge sends it: wraps `send`, and is told by the edge what a cached page
    was, so that path keeps sending through the server's own `send` (the prepared-head shortcut)."""

    __slots__ = (
        "_ids",
        "_request_id",
        "host",
        "outcome",
        "render_ns",
        "scope",
        "send",
        "size",
        "status",
        "tenant",
    )

    def __init__(self, send: Send, scope: Scope, ids: RequestIds) -> None:
        self.send = send
        self.scope = scope
        self.status = 0
        self.size = 0
        self.outcome = BYPASS
        self.tenant = NO_TENANT
        self.host: bytes | None = None
        self.render_ns = 0
        self._request_id = b""
        self._ids = ids
        answering(self)

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = [*message.get("headers", ()), (REQUEST_ID, self.request_id())]
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body":
            self.size += len(message.get("body", b""))
        await self.send(message)

    def request_id(self, offered: bytes | None = None, *, read: bool = False) -> bytes:
        """X-Request-Id from a trusted proxy, else one made here; the same for the whole request. `read`: the
        caller has read the request's headers, and `offered` is what it found."""
        if not self._request_id:
            if not read and self._ids.trusted_header:
                offered = header(self.scope, REQUEST_ID)
            self._request_id = self._ids.accept(offered, self.scope)
        return self._request_id


class RequestIds:
    """Makes request ids (a random per-worker prefix and a counter: unique, and cheaper than random bytes each),
    and accepts one a trusted proxy sends."""

    def __init__(self, trusted: Callable[[Scope], bool] | None) -> None:
        self._trusted = trusted
        self.trusted_header = trusted is not None
        self._prefix = os.urandom(4).hex().encode() + b"-"
        self._numbers: Iterator[int] = count(1)

    def accept(self, offered: bytes | None, scope: Scope) -> bytes:
        if offered is None:
            return self._prefix + b"%x" % next(self._numbers)
        trusted = self._trusted
        if offered and len(offered) <= 128 and _REQUEST_ID_CHARS.issuperset(offered) and trusted and trusted(scope):
            return offered
        return self._prefix + b"%x" % next(self._numbers)


class Recorder:
    """What the edge calls around each public request: counts it, and writes its access log line.

    A request's start is read from the wall clock in ns (`started`): one read gives both the log line's time and,
    with the read at the end, its duration, where a monotonic clock would need a second read.
    """

    def __init__(self, stats: RequestStats | None, ids: RequestIds, log: AccessLog | None) -> None:
        self.stats = stats
        self.ids = ids
        self.log = log

    def finish(self, exchange: Exchange, started: int) -> None:
        duration = max(time_ns() - started, 0)
        if self.stats is not None:
            self.stats.record(
                exchange.status, exchange.outcome, exchange.tenant, exchange.size, duration, exchange.render_ns
            )
        if self.log is not None:
            self.log.request(exchange, started, duration)

    def hit(
        self, scope: Scope, host: bytes, status: int, size: int, tenant: str, request_id: bytes, started: int
    ) -> None:
        """A page the page cache sent on the edge's hot path, where no Exchange is made."""
        duration = max(time_ns() - started, 0)  # the wall clock may step back
        if self.stats is not None:
            self.stats.record(status, HIT, tenant, size, duration, 0)
        if self.log is not None:
            path, method = scope["path"], scope["method"]
            self.log.line(host, path, method, status, size, HIT, tenant, request_id, started, duration)


def header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's value, read from the scope (for the paths that did not read it already)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
