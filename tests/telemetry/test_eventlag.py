"""Event lag, counted by a bus listener against an injected clock, and the bus's reconnections, as metrics."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tenantedge.clock import ManualClock
from tenantedge.events import TENANT_UPDATED, Event, LocalBus
from tenantedge.telemetry.eventlag import EventLag
from tenantedge.telemetry.export import Exporter
from tenantedge.telemetry.requests import RequestStats

pytestmark = pytest.mark.anyio


def scraped(exporter: Exporter) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exporter.exposition().decode())
        for sample in family.samples
    }


async def test_each_applied_event_counts_and_its_lag_is_observed() -> None:
    clock = ManualClock(1_764_000_000.0)
    bus = LocalBus(clock)
    lag = EventLag(bus, clock)
    exporter = Exporter(RequestStats(), lag.metrics, timings=[lag.lag])
    bus.subscribe(lag)
    await bus.publish(Event(TENANT_UPDATED, "a", 2))  # delivered at once: no lag
    lag(Event(TENANT_UPDATED, "a", 3, None, 2, clock.wall() - 0.2))  # heard 200 ms after its publish
    lag(Event(TENANT_UPDATED, "a", 4, None, 3, clock.wall() + 5))  # a publisher whose clock runs ahead
    lag(Event(TENANT_UPDATED, "a", 5, None, 4))  # from an older publisher, with no time: counted, not timed
    found = scraped(exporter)
    assert found[("tenantedge_events_applied_total", ())] == 4
    assert found[("tenantedge_events_reconnects_total", ())] == 0
    assert found[("tenantedge_events_lag_seconds_count", ())] == 3
    assert found[("tenantedge_events_lag_seconds_sum", ())] == pytest.approx(0.2)
    assert found[("tenantedge_events_lag_seconds_bucket", (("le", "0.001"),))] == 2  # no lag, and skew clamped to 0
    assert found[("tenantedge_events_lag_seconds_bucket", (("le", "0.25"),))] == 3
