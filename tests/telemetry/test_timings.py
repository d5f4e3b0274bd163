"""Durations counted in plain lists reach a prometheus_client histogram exactly, per label, across flushes."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tenantedge.telemetry.export import Exporter
from tenantedge.telemetry.requests import RequestStats
from tenantedge.telemetry.timings import Timings


def samples(exporter: Exporter, name: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exporter.exposition().decode())
        if family.name == name
        for sample in family.samples
    }


def test_observations_add_up_per_label_and_bucket_across_flushes() -> None:
    reads = Timings("tenantedge_test_read_seconds", "Reads.", label="tier", buckets=(0.001, 0.01))
    exporter = Exporter(RequestStats(), dict, timings=[reads])
    reads.observe(0.0005, "redis")
    reads.observe(0.005, "redis")
    exporter.flush()
    reads.observe(0.5, "redis")
    reads.observe_ns(2_000_000, "origin")
    found = samples(exporter, "tenantedge_test_read_seconds")
    bucket = "tenantedge_test_read_seconds_bucket"
    assert found[(bucket, (("le", "0.001"), ("tier", "redis")))] == 1
    assert found[(bucket, (("le", "0.01"), ("tier", "redis")))] == 2
    assert found[(bucket, (("le", "+Inf"), ("tier", "redis")))] == 3
    assert found[("tenantedge_test_read_seconds_count", (("tier", "redis"),))] == 3
    assert found[("tenantedge_test_read_seconds_sum", (("tier", "redis"),))] == pytest.approx(0.5055)
    assert found[(bucket, (("le", "0.01"), ("tier", "origin")))] == 1


def test_label_values_past_the_bound_add_up_as_other() -> None:
    renders = Timings("tenantedge_test_render_seconds", "Renders.", label="section", max_labels=2)
    exporter = Exporter(RequestStats(), dict, timings=[renders])
    for section in ("Hero", "CTA", "Footer", "Gallery"):
        renders.observe(0.001, section)
    counts = {
        labels[0][1]: value
        for (name, labels), value in samples(exporter, "tenantedge_test_render_seconds").items()
        if name.endswith("_count")
    }
    assert counts == {"Hero": 1, "CTA": 1, "other": 2}


def test_a_family_without_a_label_and_a_name_without_its_unit() -> None:
    lag = Timings("tenantedge_test_lag_seconds", "Lag.")
    exporter = Exporter(RequestStats(), dict, timings=[lag])
    lag.observe(0.02)
    assert samples(exporter, "tenantedge_test_lag_seconds")[("tenantedge_test_lag_seconds_count", ())] == 1
    with pytest.raises(ValueError, match="_seconds"):
        Timings("tenantedge_test_lag", "Lag.")
