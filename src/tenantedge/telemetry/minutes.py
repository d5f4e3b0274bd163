"""Per-tenant figures a minute at a time for the last hour, for the admin's stats: every worker's, added up in
Redis when it is configured (one sorted set per figure and minute, a member per tenant, kept two hours), else
this worker's own, in memory (a scaled-out instance then shows the figures of the worker that answers).

Render times are kept as counts per duration bucket (RENDER_BUCKETS_MS), so they add up across workers and
minutes; p50 and p95 are read from the buckets, interpolated linearly within the bucket that holds the rank
(as Prometheus's histogram_quantile does), so they are estimates no finer than the bucket they fall in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection, Sequence
from typing import Any, Protocol

from tenantedge.telemetry.requests import (
    BYTES,
    CLIENT_ERRORS,
    HITS,
    RENDER_BUCKETS_MS,
    RENDER_NS,
    RENDERS,
    REQUESTS,
    SERVER_ERRORS,
    TENANT_FIGURES,
)

log = logging.getLogger("tenantedge.telemetry")

WINDOW = 60  # minutes shown
FIGURES = ("requests", "client_errors", "server_errors", "bytes", "render_ms", "hits")
SORTS = {"requests": ("requests",), "errors": ("client_errors", "server_errors"), "render_time": ("render_ms",)}
SORTS["bytes"] = ("bytes",)
# Renders per duration bucket: stored as figures of their own (a sorted set each in Redis), shown as a histogram.
BUCKETS = (*(f"renders_le_{bound}ms" for bound in RENDER_BUCKETS_MS), f"renders_over_{RENDER_BUCKETS_MS[-1]}ms")
FIELDS = FIGURES + BUCKETS
_KEEP = 2 * 3600  # seconds a minute's sets live in Redis
Row = dict[str, Any]
Minute = dict[str, list[float]]  # tenant -> figures, in FIELDS order


class TenantMinutes(Protocol):
    """Where the exporter leaves each second's per-tenant figures, and where the admin reads them."""

    shared: bool  # every worker's figures (True), or the answering worker's only

    def add(self, batch: dict[str, list[int]]) -> None:
        """Figures of requests just counted (RequestStats.take_tenants), for the current minute."""
        ...

    async def run(self) -> None:
        """Whatever must happen in the background (sending to Redis), for as long as the worker lives."""
        ...

    async def series(self, tenant: str) -> list[Row]:
        """The tenant's figures per minute, oldest first, the current minute last."""
        ...

    async def ranking(self, sort: str, limit: int, tenants: Collection[str] | None) -> list[Row]:
        """The last hour's totals per tenant, largest `sort` first; `tenants`: only these (None: all)."""
        ...


def _accumulate(minute: Minute, batch: dict[str, list[int]]) -> None:
    """Add a batch of per-tenant figures (RequestStats order) to a minute's (FIELDS order)."""
    for tenant, figures in batch.items():
        values = _figures(figures)
        held = minute.get(tenant)
        if held is None:
            minute[tenant] = values
        else:
            for index, value in enumerate(values):
                held[index] += value


def _figures(figures: list[int]) -> list[float]:
    # render time in ms, the others as counted
    return [
        figures[REQUESTS],
        figures[CLIENT_ERRORS],
        figures[SERVER_ERRORS],
        figures[BYTES],
        figures[RENDER_NS] / 1e6,
        figures[HITS],
        *figures[RENDERS:TENANT_FIGURES],
    ]


def _row(values: Sequence[float], *, histogram: bool = False, **extra: Any) -> Row:
    """A row of figures (FIELDS order) as the API shows it, with the ratios and render percentiles worked out."""
    shown = len(FIGURES)
    row: Row = {**extra, **{name: _shown(value) for name, value in zip(FIGURES, values[:shown], strict=True)}}
    requests = row["requests"]
    row["hit_ratio"] = round(row["hits"] / requests, 4) if requests else None
    row["error_rate"] = round((row["client_errors"] + row["server_errors"]) / requests, 4) if requests else 0
    buckets = [int(value) for value in values[shown:]]
    row["render_p50_ms"] = render_percentile(buckets, 0.5)
    row["render_p95_ms"] = render_percentile(buckets, 0.95)
    if histogram:
        row["render_histogram"] = buckets
    return row


def render_percentile(buckets: Sequence[int], quantile: float) -> float | None:
    """The render time (ms) under which `quantile` of the renders counted in `buckets` fall; None for no render.

    Interpolated linearly within the bucket holding the rank (the first bucket starts at 0 ms); past the last
    bound the answer is that bound, a floor, as nothing is known of how far over it the renders went.
    """
    total = sum(buckets)
    if not total:
        return None
    rank = quantile * total
    seen, lower = 0, 0.0
    for upper, count in zip(RENDER_BUCKETS_MS, buckets[:-1], strict=True):
        if count and seen + count >= rank:
            return round(lower + (upper - lower) * (rank - seen) / count, 3)
        seen += count
        lower = upper
    return float(RENDER_BUCKETS_MS[-1])


def hour_totals(minutes: Sequence[Row]) -> Row:
    """The sums of a series of rows (as `series` gives them), with ratios and percentiles over all of them."""
    values = [float(sum(minute[name] for minute in minutes)) for name in FIGURES]
    values += [float(sum(column)) for column in zip(*(minute["render_histogram"] for minute in minutes), strict=True)]
    return _row(values, histogram=True)


def _shown(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)


def _minute_label(minute: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(minute * 60))


def _rank(totals: dict[str, list[float]], sort: str, limit: int) -> list[Row]:
    indexes = [FIGURES.index(name) for name in SORTS[sort]]
    ordered = sorted(totals.items(), key=lambda item: (-sum(item[1][i] for i in indexes), item[0]))
    return [_row(values, tenant=tenant) for tenant, values in ordered[:limit]]


class LocalMinutes:
    """This worker's last hour, in memory: at most WINDOW + 1 minutes of the tenants seen in them."""

    shared = False

    def __init__(self) -> None:
        self._minutes: dict[int, Minute] = {}

    def add(self, batch: dict[str, list[int]]) -> None:
        minute = int(time.time() // 60)
        current = self._minutes.get(minute)
        if current is None:
            current = self._minutes[minute] = {}
            for old in [m for m in self._minutes if m <= minute - WINDOW]:
                del self._minutes[old]
        _accumulate(current, batch)

    async def run(self) -> None:
        return None

    async def series(self, tenant: str) -> list[Row]:
        now = int(time.time() // 60)
        empty = [0.0] * len(FIELDS)
        return [
            _row(self._minutes.get(minute, {}).get(tenant, empty), histogram=True, minute=_minute_label(minute))
            for minute in range(now - WINDOW + 1, now + 1)
        ]

    async def ranking(self, sort: str, limit: int, tenants: Collection[str] | None) -> list[Row]:
        totals: dict[str, list[float]] = {}
        for minute in self._minutes.values():
            for tenant, values in minute.items():
                if tenants is not None and tenant not in tenants:
                    continue
                held = totals.setdefault(tenant, [0.0] * len(FIELDS))
                for index, value in enumerate(values):
                    held[index] += value
        return _rank(totals, sort, limit)


class RedisMinutes:
    """Every worker's figures, added up in Redis: each worker sends what it counted once a second."""

    shared = True

    def __init__(self, url: str, *, prefix: str = "te:", timeout: float = 1.0, interval: float = 1.0) -> None:
        # Imported here: a worker with no Redis does not load redis-py.
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        self._client: aioredis.Redis = aioredis.Redis.from_url(url, socket_timeout=timeout)
        self._failures: tuple[type[Exception], ...] = (RedisError, OSError)
        self._prefix = f"{prefix}stats:"
        self._interval = interval
        self._pending: dict[int, Minute] = {}

    def _key(self, figure: str, minute: int) -> str:
        return f"{self._prefix}{figure}:{minute}"

    def add(self, batch: dict[str, list[int]]) -> None:
        minute = int(time.time() // 60)
        pending = self._pending.setdefault(minute, {})
        _accumulate(pending, batch)

    async def send(self) -> None:
        """Add what is pending to Redis; kept for the next try when Redis does not answer (an hour at most)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for minute, tenants in pending.items():
                    for index, figure in enumerate(FIELDS):
                        key = self._key(figure, minute)
                        for tenant, values in tenants.items():
                            if values[index]:
                                pipe.zincrby(key, values[index], tenant)
                        pipe.expire(key, _KEEP)
                await pipe.execute()
        except self._failures as e:
            log.warning("per-tenant stats not sent to Redis: %s", e)
            oldest = int(time.time() // 60) - WINDOW
            for minute, tenants in pending.items():
                if minute > oldest:
                    merged = self._pending.setdefault(minute, {})
                    for tenant, values in tenants.items():
                        held = merged.setdefault(tenant, [0.0] * len(FIELDS))
                        for index, value in enumerate(values):
                            held[index] += value

    def pending(self) -> int:
        """Tenant-minutes counted and not yet in Redis."""
        return sum(len(tenants) for tenants in self._pending.values())

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self._interval)
                await self.send()
        finally:
            await self.close()

    async def close(self) -> None:
        """Send what is left, and disconnect."""
        with contextlib.suppress(*self._failures):
            await self.send()
        await self._client.aclose()

    async def series(self, tenant: str) -> list[Row]:
        now = int(time.time() // 60)
        minutes = range(now - WINDOW + 1, now + 1)
        async with self._client.pipeline(transaction=False) as pipe:
            for minute in minutes:
                for figure in FIELDS:
                    pipe.zscore(self._key(figure, minute), tenant)
            scores = await pipe.execute()
        width = len(FIELDS)
        return [
            _row(
                [float(score or 0) for score in scores[n * width : (n + 1) * width]],
                histogram=True,
                minute=_minute_label(minute),
            )
            for n, minute in enumerate(minutes)
        ]

    async def ranking(self, sort: str, limit: int, tenants: Collection[str] | None) -> list[Row]:
        now = int(time.time() // 60)
        minutes = range(now - WINDOW + 1, now + 1)
        async with self._client.pipeline(transaction=False) as pipe:
            for figure in FIELDS:
                pipe.zunion([self._key(figure, minute) for minute in minutes], withscores=True)
            unions = await pipe.execute()
        found: dict[str, list[float]] = {}
        for index, union in enumerate(unions):
            for member, score in union:
                tenant = member.decode() if isinstance(member, bytes) else str(member)
                if tenants is not None and tenant not in tenants:
                    continue
                found.setdefault(tenant, [0.0] * len(FIELDS))[index] = float(score)
        return _rank(found, sort, limit)
