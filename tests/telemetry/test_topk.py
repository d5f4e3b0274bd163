"""The busiest tenants, in bounded memory whatever the number of tenants."""

from __future__ import annotations

import random

from tenantedge.telemetry.requests import NO_TENANT, RequestStats
from tenantedge.telemetry.topk import TopTenants


def test_a_hundred_thousand_tenants_leave_at_most_k_held() -> None:
    top = TopTenants(50)
    rng = random.Random(7)  # noqa: S311 - reproducible, not secret
    heavy = {f"heavy-{n}": 500 - n for n in range(10)}
    for start in range(0, 100_000, 1000):  # batches, as the exporter merges them once a second
        batch = {f"tenant-{n}": 1 for n in range(start, start + 1000)}
        for name, weight in heavy.items():
            batch[name] = rng.randint(weight // 2, weight)
        top.merge(batch)
        assert len(top) <= 50 and len(top.errors) <= 50
    held = dict(top.top(10))
    assert set(held) == set(heavy)  # the heavy hitters, each far above total / K, are all held


def test_estimates_never_undercount_and_errors_bound_them() -> None:
    top = TopTenants(3)
    truth: dict[str, int] = {}
    rng = random.Random(1)  # noqa: S311 - reproducible, not secret
    for _ in range(200):
        batch = {f"t{rng.randint(0, 9)}": rng.randint(1, 5) for _ in range(4)}
        for name, count in batch.items():
            truth[name] = truth.get(name, 0) + count
        top.merge(batch)
    for name, estimate in top.counts.items():
        assert estimate - top.errors[name] <= truth[name] <= estimate


def test_request_stats_hold_a_bounded_number_of_tenants_between_flushes() -> None:
    stats = RequestStats(max_tenants=1000)
    for number in range(100_000):
        stats.record(200, 0, f"tenant-{number}", 10, 1000, 0)
    batch = stats.take_tenants()
    assert len(batch) == 1001  # 1,000 tenants, and the rest summed under "-"
    assert batch[NO_TENANT][0] == 99_000
    assert sum(figures[0] for figures in batch.values()) == 100_000
    assert stats.take_tenants() == {}
