"""Durations a component measures (a tier's read, a section's render, an event's lag), counted in plain lists.

As with requests (tenantedge.telemetry.requests), the measuring code only adds to a list; the exporter adds
what changed to a prometheus_client Histogram of the same name once a second. A component owns its `Timings`,
says which label values it uses (they must be bounded: tiers, section types, never tenants or hosts), and
hands it to the exporter when the application is wired.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Upper bounds in seconds for things that take from microseconds (a memory read) to seconds (a hung tier).
LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class Timings:
    """One histogram family: per label value, a count per bucket (the last one past every bound) and the sum."""

    def __init__(
        self,
        name: str,
        text: str,
        *,
        label: str | None = None,
        buckets: Sequence[float] = LATENCY_BUCKETS,
        max_labels: int = 64,
    ) -> None:
        if not name.endswith("_seconds"):
            raise ValueError(f"{name}: a duration family's name ends in _seconds")
        self.name = name
        self.text = text
        self.label = label
        self.buckets = tuple(buckets)
        self._bounds_ns = [round(bound * 1e9) for bound in self.buckets]
        self._max_labels = max_labels
        # label value -> [count per bucket..., sum in ns]
        self.counts: dict[str, list[int]] = {}

    def observe_ns(self, duration_ns: int, value: str = "") -> None:
        """Count one duration; past `max_labels` distinct values, new ones count as `other`."""
        counts = self.counts.get(value)
        if counts is None:
            if len(self.counts) >= self._max_labels:
                value = "other"
            counts = self.counts.setdefault(value, [0] * (len(self._bounds_ns) + 2))
        counts[bisect_left(self._bounds_ns, duration_ns)] += 1
        counts[-1] += duration_ns

    def observe(self, seconds: float, value: str = "") -> None:
        self.observe_ns(round(seconds * 1e9), value)
