"""Metrics in the Prometheus format through prometheus_client, added up across every worker of an instance.

With PROMETHEUS_MULTIPROC_DIR set (`tenantedge serve` sets it before any worker starts), each worker's values
live in files there and a scrape, answered by whichever worker, reads them all: counters and histograms add up
across workers, gauges are summed over the live ones. Every second (and at a scrape, and at shutdown) a worker
adds what its own plain counters (tenantedge.telemetry.requests, and the components' `metrics()`) gained since.
Without the variable the values stay in the process: one worker's figures, as in tests.

tests/telemetry/test_metrics.py parses what this writes with the client's own parser, and pins the two private
attributes of its Histogram used here (bucket and sum values, to add counts observed elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from tenantedge.telemetry.accesslog import OUTCOMES
from tenantedge.telemetry.figures import Figures, Labelled
from tenantedge.telemetry.requests import (
    BYTES,
    CLIENT_ERRORS,
    DURATION_BUCKETS,
    HITS,
    RENDER_NS,
    RENDERS,
    REQUESTS,
    SERVER_ERRORS,
    STATUS_CLASSES,
    RequestStats,
)
from tenantedge.telemetry.timings import Timings
from tenantedge.telemetry.topk import TopTenants

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "other"  # every tenant not among the top ones, summed
Sources = Callable[[], Figures]
TenantBatch = Callable[[dict[str, list[int]]], None]


class Exporter:
    """This worker's metrics: owns the prometheus_client objects and feeds them from plain counters."""

    def __init__(
        self,
        stats: RequestStats,
        sources: Sources,
        *,
        top: int = 50,
        interval: float = 1.0,
        tenant_interval: float = 10.0,
        tenant_batches: TenantBatch | None = None,
        timings: Sequence[Timings] = (),
    ) -> None:
        self.stats = stats
        self._sources = sources
        self._interval = interval
        # Every this many flushes of the run loop, the per-tenant figures too (a scrape takes them at once).
        self._tenant_every = max(1, round(tenant_interval / interval))
        self._tenant_batches = tenant_batches
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        self.registry = registry = CollectorRegistry(auto_describe=False)
        self._requests = Counter(
            "tenantedge_http_requests",
            "Requests answered on the public listener, by status class and page-cache outcome.",
            ["status", "cache"],
            registry=registry,
        )
        self._duration = Histogram(
            "tenantedge_http_request_duration_seconds",
            "From the request reaching the application to its last byte handed to the server.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        tenant = ["tenant"]
        self._tenant_requests = Counter(
            "tenantedge_tenant_requests",
            "Requests per tenant (the top ones; the rest as other).",
            tenant,
            registry=registry,
        )
        self._tenant_errors = Counter(
            "tenantedge_tenant_errors", "4xx and 5xx answers per tenant.", ["tenant", "status"], registry=registry
        )
        self._tenant_bytes = Counter(
            "tenantedge_tenant_response_bytes", "Response body bytes per tenant.", tenant, registry=registry
        )
        self._tenant_render = Counter(
            "tenantedge_tenant_render_seconds", "Time spent rendering pages per tenant.", tenant, registry=registry
        )
        self._tenant_hits = Counter(
            "tenantedge_tenant_cache_hits",
            "Requests per tenant answered from the page cache.",
            tenant,
            registry=registry,
        )
        self._memory = Gauge(
            "tenantedge_process_resident_memory_bytes",
            "Resident memory of the workers, summed.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.top = TopTenants(top)
        # Tenants ever given their own label by this worker: bounded, so the series are too.
        self._labelled: set[str] = set()
        self._max_labelled = 4 * top
        self._sent_classes = [0] * len(stats.by_class)
        self._sent_durations = [0] * (len(stats.durations) + 1)
        # Each component's durations, with what was sent of them per label value.
        self._timings: list[tuple[Timings, Histogram, dict[str, list[int]]]] = [
            (
                timing,
                Histogram(
                    timing.name,
                    timing.text,
                    [timing.label] if timing.label else [],
                    buckets=timing.buckets,
                    registry=registry,
                ),
                {},
            )
            for timing in timings
        ]
        # Per name, the family and what was sent of it per label value ("" for a family without a label).
        self._counters: dict[str, tuple[Counter, dict[str, float]]] = {}
        self._gauges: dict[str, Gauge] = {}

    def flush(self, *, tenants: bool = True) -> None:
        """Add what the plain counters gained since the last flush, and set the gauges; with `tenants`, the
        per-tenant figures too."""
        stats = self.stats
        for index, value in enumerate(stats.by_class):
            gained = value - self._sent_classes[index]
            if gained:
                self._requests.labels(STATUS_CLASSES[index // 4], OUTCOMES[index % 4]).inc(gained)
                self._sent_classes[index] = value
        _add_observed(self._duration, [*stats.durations, stats.duration_ns], self._sent_durations)
        for timing, histogram, sent in self._timings:
            for label, counts in list(timing.counts.items()):
                before = sent.get(label)
                if before is None:
                    before = sent[label] = [0] * len(counts)
                if counts != before:
                    _add_observed(histogram.labels(label) if timing.label else histogram, counts, before)
        if tenants:
            self._flush_tenants(stats.take_tenants())
        for name, (kind, text, amount) in self._sources().items():
            label, values = (amount.label, amount.values) if isinstance(amount, Labelled) else ("", {"": amount})
            if kind == "counter":
                self._add(name, text, label, values)
            else:
                gauge = self._gauge(name, text, label)
                for which, figure in values.items():
                    (gauge.labels(which) if label else gauge).set(figure)
        self._memory.set(_resident_bytes())

    def _flush_tenants(self, batch: dict[str, list[int]]) -> None:
        if not batch:
            return
        self.top.merge({tenant: figures[REQUESTS] for tenant, figures in batch.items()})
        held = self.top.counts
        # Added up per label first: with thousands of tenants a second, one inc() per label and family, not per
        # tenant (an inc() in multiprocess mode costs microseconds).
        by_label: dict[str, list[int]] = {}
        for tenant, figures in batch.items():
            label = tenant
            if tenant not in self._labelled:
                if tenant in held and len(self._labelled) < self._max_labelled:
                    self._labelled.add(tenant)
                else:
                    label = OTHER
            summed = by_label.get(label)
            if summed is None:
                by_label[label] = figures[:RENDERS]  # the render buckets are the stats API's, not exported
            else:
                for index in range(RENDERS):
                    summed[index] += figures[index]
        for label, figures in by_label.items():
            self._tenant_requests.labels(label).inc(figures[REQUESTS])
            if figures[CLIENT_ERRORS]:
                self._tenant_errors.labels(label, "4xx").inc(figures[CLIENT_ERRORS])
            if figures[SERVER_ERRORS]:
                self._tenant_errors.labels(label, "5xx").inc(figures[SERVER_ERRORS])
            if figures[BYTES]:
                self._tenant_bytes.labels(label).inc(figures[BYTES])
            if figures[RENDER_NS]:
                self._tenant_render.labels(label).inc(figures[RENDER_NS] / 1e9)
            if figures[HITS]:
                self._tenant_hits.labels(label).inc(figures[HITS])
        if self._tenant_batches is not None:
            self._tenant_batches(batch)

    def _add(self, name: str, text: str, label: str, values: Mapping[str, float]) -> None:
        found = self._counters.get(name)
        if found is None:
            counter = Counter(name, text, [label] if label else [], registry=self.registry)
            found = self._counters[name] = (counter, {})
        counter, sent = found
        for value, figure in values.items():
            before = sent.get(value, 0.0)
            if figure > before:
                (counter.labels(value) if label else counter).inc(figure - before)
                sent[value] = figure

    def _gauge(self, name: str, text: str, label: str) -> Gauge:
        gauge = self._gauges.get(name)
        if gauge is None:
            labels = [label] if label else []
            gauge = Gauge(name, text, labels, multiprocess_mode="livesum", registry=self.registry)
            self._gauges[name] = gauge
        return gauge

    def exposition(self) -> bytes:
        """Every worker's metrics in the text format (this worker's, brought up to date first)."""
        self.flush()
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    async def run(self) -> None:
        """Flush every `interval` seconds for as long as the worker lives."""
        for number in itertools.count(1):
            await asyncio.sleep(self._interval)
            self.flush(tenants=number % self._tenant_every == 0)

    async def hand_over(self) -> None:
        """Take every figure counted so far, the per-tenant ones too, before the tasks that send them on stop."""
        self.flush()

    async def close(self) -> None:
        """The last flush; a worker that stops takes its gauges out of the sums (its counters stay counted)."""
        self.flush()
        if self.multiprocess:
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _add_observed(histogram: Histogram, counts: list[int], sent: list[int]) -> None:
    """Add to `histogram` what `counts` (per bucket, then the sum in ns) gained over `sent`, and remember it."""
    buckets: list[Any] = histogram._buckets  # pinned by a test
    for index in range(len(counts) - 1):
        gained = counts[index] - sent[index]
        if gained:
            buckets[index].inc(gained)
            sent[index] = counts[index]
    if counts[-1] != sent[-1]:
        histogram._sum.inc((counts[-1] - sent[-1]) / 1e9)
        sent[-1] = counts[-1]


def _resident_bytes() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return 0
