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

if TYPE_CHECKING:
    from tenantedge.telemetry.requests import Exchange

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

    def request(self, exchange: Exchange, host: bytes | None, duration_ns: int) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        stamp = f"{self._stamp}.{int((now - second) * 1000):03d}Z"
        scope = exchange.scope
        path = scope["path"]
        outcome = exchange.outcome
        rid = exchange.request_id().decode("ascii")
        shown_host = host.decode("latin-1") if host is not None else ""
        if self._json:
            line = (
                f'{{"time":"{stamp}","request_id":"{rid}","tenant":"{exchange.tenant}",'
                f'"host":{_quoted(shown_host)},"method":"{scope["method"]}","path":{_quoted(path)},'
                f'"status":{exchange.status},"bytes":{exchange.size},"duration_ms":{duration_ns / 1e6:.3f},'
                f'"cache":"{OUTCOMES[outcome]}","tier":"{TIERS[outcome]}","worker":{self._worker}}}\n'
            )
        else:
            line = (
                f'{stamp} {rid} {exchange.tenant} {shown_host!r} "{scope["method"]} {path!r}" {exchange.status} '
                f"{exchange.size} {duration_ns / 1e6:.3f}ms {OUTCOMES[outcome]} {TIERS[outcome]} {self._worker}\n"
            )
        self._lines.append(line)
        if len(self._lines) >= self._batch:
            self.flush()

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
