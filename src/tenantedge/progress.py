"""Progress of a long operator job (`sync` of thousands of tenants, `migrate`, asset uploads): counts, rate, ETA.

On a terminal one line is redrawn in place, at most a few times a second. Anywhere else (a log, CI, a pipe) the
output stays line-oriented and quiet: a line every `every` seconds while the job runs, and one when it ends.
Written to stderr, so what a command prints on stdout (its result lines) stays as it was.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

REDRAW = 0.1  # seconds between redraws on a terminal
EVERY = 10.0  # seconds between lines elsewhere


class Progress:
    """`advance()` as each item is done, `finish()` (or leave the `with` block) at the end."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "",
        in_bytes: bool = False,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = EVERY,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._unit = unit
        self._bytes = in_bytes
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._terminal = self._stream.isatty()
        self._pause = REDRAW if self._terminal else every
        self._started = clock()
        self._shown = self._started
        self._width = 0  # of the line last drawn on a terminal, to blank what a shorter one leaves
        self._finished = False

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        now = self._clock()
        if now - self._shown >= self._pause:
            self._shown = now
            self._show(self.status(now))

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        elapsed = max(self._clock() - self._started, 1e-9)
        line = f"{self.label}: {self._amount(self.done)} in {_duration(elapsed)} ({self._rate(self.done / elapsed)})"
        if self._terminal:
            self._stream.write("\r" + line.ljust(self._width) + "\n")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def status(self, now: float) -> str:
        """The line shown while the job runs: done (of total), rate and, with a total, the percentage and ETA."""
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.label}: {self._amount(self.done)}"]
        if self.total:
            parts[0] = f"{self.label}: {self._amount(self.done, self.total)} ({100 * self.done // self.total}%)"
        parts.append(self._rate(rate))
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {_duration((self.total - self.done) / rate)}")
        return " · ".join(parts)

    def _show(self, line: str) -> None:
        if self._terminal:
            self._stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def _amount(self, done: int, total: int | None = None) -> str:
        if self._bytes:
            return _size(done) + (f"/{_size(total)}" if total is not None else "")
        shown = f"{done:,}" + (f"/{total:,}" if total is not None else "")
        return f"{shown} {self._unit}".rstrip()

    def _rate(self, rate: float) -> str:
        if self._bytes:
            return f"{_size(rate)}/s"
        return f"{rate:,.1f}/s" if rate < 10 else f"{rate:,.0f}/s"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.finish()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")
