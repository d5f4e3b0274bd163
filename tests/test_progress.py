"""Progress of long operator jobs: redrawn in place on a terminal, plain and sparse lines elsewhere."""

from __future__ import annotations

import io

from tenantedge.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_sees_one_line_redrawn_with_count_rate_and_eta() -> None:
    out, clock = Terminal(), Clock()
    progress = Progress("sync", 1000, unit="tenants", stream=out, clock=clock)
    for _ in range(250):
        clock.now += 0.01  # 100 tenants a second
        progress.advance()
    shown = out.getvalue()
    assert shown.startswith("\r") and "\n" not in shown, "redrawn in place, never a new line while running"
    last = shown.rsplit("\r", 1)[-1].strip()
    assert last.startswith("sync: 25") and "/1,000 tenants" in last and "100/s" in last
    assert "ETA 7." in last  # 750 left at 100 a second
    assert shown.count("\r") <= 26, "redrawn at most ten times a second"
    progress.finish()
    end = out.getvalue().rsplit("\r", 1)[-1]
    assert end.endswith("\n") and end.rstrip() == "sync: 250 tenants in 2.5 s (100/s)", "blanks the longer line"


def test_elsewhere_a_plain_line_every_interval_and_one_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress("migrate", 3, unit="files", stream=out, clock=clock, every=10) as progress:
        for _ in range(3):
            clock.now += 6
            progress.advance()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines == ["migrate: 2/3 files (66%) · 0.2/s · ETA 6.0 s", "migrate: 3 files in 18.0 s (0.2/s)"]


def test_bytes_read_as_sizes_and_an_unknown_total_shows_no_eta() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress("upload", None, in_bytes=True, stream=out, clock=clock, every=1)
    clock.now += 2
    progress.advance(5_000_000)
    progress.finish()
    progress.finish()  # once only
    assert out.getvalue().splitlines() == ["upload: 5.0 MB · 2.5 MB/s", "upload: 5.0 MB in 2.0 s (2.5 MB/s)"]


def test_a_long_job_reads_in_minutes_and_hours() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress("sync", 100_000, stream=out, clock=clock, every=60)
    clock.now += 600
    progress.advance(10_000)
    assert out.getvalue().strip() == "sync: 10,000/100,000 (10%) · 17/s · ETA 1 h 30 min"
    assert progress.status(clock.now + 0).endswith("ETA 1 h 30 min")
