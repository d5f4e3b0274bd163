"""Counters and gauges a component hands the exporter with one label: each label value its own series."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tenantedge.telemetry.export import Exporter
from tenantedge.telemetry.figures import Figures, Labelled
from tenantedge.telemetry.requests import RequestStats


def test_labelled_counters_add_what_each_value_gained_and_gauges_take_each_value() -> None:
    reads = {"redis": 2.0, "origin": 1.0}
    open_breakers = {"redis": 0.0, "origin": 0.0}

    def figures() -> Figures:
        return {
            "tenantedge_test_reads_total": ("counter", "Reads.", Labelled("tier", dict(reads))),
            "tenantedge_test_breaker_open": ("gauge", "Open.", Labelled("tier", dict(open_breakers))),
            "tenantedge_test_plain": ("gauge", "Plain.", 7),
        }

    exporter = Exporter(RequestStats(), figures)
    exporter.flush()
    reads["redis"] = 5
    open_breakers["origin"] = 1
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exporter.exposition().decode())
        if family.name.startswith("tenantedge_test_")
        for sample in family.samples
        if not sample.name.endswith("_created")
    }
    assert found == {
        ("tenantedge_test_reads_total", (("tier", "redis"),)): 5,
        ("tenantedge_test_reads_total", (("tier", "origin"),)): 1,
        ("tenantedge_test_breaker_open", (("tier", "redis"),)): 0,
        ("tenantedge_test_breaker_open", (("tier", "origin"),)): 1,
        ("tenantedge_test_plain", ()): 7,
    }
