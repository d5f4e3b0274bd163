"""The event bus as this worker sees it: events applied, how long each took from its publisher, reconnections."""

from __future__ import annotations

from tenantedge.clock import Clock
from tenantedge.events import Event, EventBus
from tenantedge.telemetry.timings import Timings

# Upper bounds in seconds: an event crosses Redis pub/sub in about a millisecond; seconds mean a stalled worker.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class EventLag:
    """A bus listener, subscribed after the caches' own (so an event counts once this worker has applied it)."""

    def __init__(self, bus: EventBus, clock: Clock) -> None:
        self._bus = bus
        self._clock = clock
        self.applied = 0
        self.lag = Timings(
            "tenantedge_events_lag_seconds",
            "From an event's publish (the publisher's clock) to this worker having applied it.",
            buckets=LAG_BUCKETS,
        )

    def __call__(self, event: Event) -> None:
        self.applied += 1
        if event.published_at is not None:  # events from older publishers carry no time
            # Clocks of two machines may disagree: an event cannot arrive before it was sent.
            self.lag.observe(max(0.0, self._clock.wall() - event.published_at))

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        return {
            "tenantedge_events_applied_total": ("counter", "Events this worker applied.", self.applied),
            "tenantedge_events_reconnects_total": (
                "counter",
                "Times the event bus connection was lost and made again (each drops what a worker held).",
                self._bus.reconnects,
            ),
        }
