"""Access logs: one line per request, JSON (or plain), written in batches so the hot path never waits on a write.

A line is formatted from a few short fields (no dictionary is encoded), appended to a list, and the list is
written to the stream every `interval` seconds or at `batch` lines, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import time
from typing import IO, TYPE_CHECKING

import orjson

from tenantedge.telemetry.requests import header

if TYPE_CHECKING:
    from tenantedge.telemetry.requests import Exchange

_FRAGMENTS = 16_384  # about 4 MB: every page of 10,000 busy hosts stays formatted

OUTCOMES = ("hit", "miss", "stale", "bypass")
TIERS = ("page", "render", "stale", "-")  # what answered, by cache outcome


class LogFormat(enum.Enum):
    JSON = "json"
    PLAIN = "plain"


class AccessLog:
    """Buffered access log lines for one worker."""

    def __init__(self, stream: IO[str], form: LogFormat, *, interval: float = 0.25, batch: int = 512) -> None:
        self._stream = stream
        self._json = form is LogFormat.JSON
        self._interval = interval
        self._batch = batch
        self._lines: list[str] = []
        self._worker = os.getpid()
        self._second = -1
        self._stamp = ""
        # What stays the same from one request for a page to the next (host to worker), formatted once.
        self._fragments: dict[tuple[object, ...], str] = {}

    def request(self, exchange: Exchange, duration_ns: int) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        scope = exchange.scope
        host = exchange.host
        if host is None:  # the paths that do not send a cached page: read here
            host = header(scope, b"host")
        key = (host, scope["path"], scope["method"], exchange.status, exchange.size, exchange.outcome, exchange.tenant)
        fragment = self._fragments.get(key)
        if fragment is None:
            fragment = self._fragment(exchange, host)
            if len(self._fragments) >= _FRAGMENTS:
                self._fragments.clear()  # bounded, whatever hosts and paths clients make up
            self._fragments[key] = fragment
        rid = exchange.request_id().decode("ascii")
        millis = int((now - second) * 1000)
        if self._json:
            line = (
                f'{{"time":"{self._stamp}.{millis:03d}Z","request_id":"{rid}",{fragment},'
                f'"duration_us":{duration_ns // 1000}}}\n'
            )
        else:
            line = f"{self._stamp}.{millis:03d}Z {rid} {fragment} {duration_ns // 1000}us\n"
        lines = self._lines
        lines.append(line)
        if len(lines) >= self._batch:
            self.flush()

    def _fragment(self, exchange: Exchange, raw: bytes | None) -> str:
        scope = exchange.scope
        host = raw.decode("latin-1") if raw is not None else ""
        path, method, outcome = scope["path"], scope["method"], exchange.outcome
        if not self._json:
            return (
                f'{exchange.tenant} {host!r} "{method} {path!r}" {exchange.status} {exchange.size} '
                f"{OUTCOMES[outcome]} {TIERS[outcome]} {self._worker}"
            )
        return (
            f'"tenant":"{exchange.tenant}","host":{_quoted(host)},"method":{_quoted(method)},"path":{_quoted(path)},'
            f'"status":{exchange.status},"bytes":{exchange.size},"cache":"{OUTCOMES[outcome]}",'
            f'"tier":"{TIERS[outcome]}","worker":{self._worker}'
        )

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            with contextlib.suppress(OSError, ValueError):  # a closed or full stream must not fail requests
                self._stream.write("".join(lines))
                self._stream.flush()

    async def run(self) -> None:
        """Write what is buffered every `interval` seconds, for as long as the worker lives."""
        try:
            while True:
                await asyncio.sleep(self._interval)
                self.flush()
        finally:
            self.flush()


def _quoted(text: str) -> str:
    # Paths and Host headers come from clients: JSON-escaped; the plain form is already quoted and ASCII.
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return orjson.dumps(text).decode()
