"""The busiest tenants in bounded memory: a space-saving summary (Metwally et al.), merged a batch at a time."""

from __future__ import annotations

import heapq
from collections.abc import Mapping


class TopTenants:
    """At most `size` tenants with an estimated count each; a tenant's estimate exceeds its true count by at most
    its `error`, and any tenant with more than (total / size) requests is held. A batch merges as in mergeable
    summaries (Agarwal et al.): a tenant not held enters with the smallest held count as its error, and only the
    `size` largest estimates stay."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.counts: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.counts)

    def merge(self, batch: Mapping[str, int]) -> None:
        """Add a batch of per-tenant counts; what is left holds no more than `size` tenants."""
        if not batch:
            return
        counts, errors = self.counts, self.errors
        floor = min(counts.values()) if len(counts) >= self.size else 0
        for tenant, count in batch.items():
            if tenant in counts:
                counts[tenant] += count
            else:
                counts[tenant] = floor + count
                errors[tenant] = floor
        if len(counts) > self.size:
            kept = heapq.nlargest(self.size, counts.items(), key=lambda item: item[1])
            self.counts = dict(kept)
            self.errors = {tenant: errors[tenant] for tenant in self.counts}

    def top(self, n: int | None = None) -> list[tuple[str, int]]:
        """The held tenants, busiest first."""
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[: n or self.size]
