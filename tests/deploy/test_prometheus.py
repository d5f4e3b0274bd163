"""deploy/prometheus.yml: a scrape config for the operations listener of every instance docker-compose.yml runs.
promtool is not installed here, so the file is read as YAML and held to what Prometheus requires of it."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tenantedge.http.endpoints import METRICS_PATH
from tests.server import ROOT

CONFIG: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
DURATION = re.compile(r"(?:\d+(?:ms|[smhdwy]))+")


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(number) * units[unit] for number, unit in re.findall(r"(\d+)(ms|[smhdwy])", duration))


def test_the_durations_are_prometheus_durations_and_a_scrape_ends_before_the_next() -> None:
    settings = CONFIG["global"]
    for name in ("scrape_interval", "scrape_timeout", "evaluation_interval"):
        assert DURATION.fullmatch(settings[name]), name
    assert seconds(settings["scrape_timeout"]) <= seconds(settings["scrape_interval"])


def test_every_instance_is_scraped_on_its_operations_listener() -> None:
    [job] = CONFIG["scrape_configs"]
    assert job["job_name"] == "tenantedge" and job["metrics_path"] == METRICS_PATH and job["scheme"] == "http"
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    # One target per instance, on the port its ops listener takes (the workers of one add up in its answer).
    instances = {
        f"{name}:{service['environment']['TENANTEDGE_OPS_PORT']}"
        for name, service in SERVICES.items()
        if service.get("command") is None and "TENANTEDGE_OPS_PORT" in service.get("environment", {})
    }
    assert instances == {"tenantedge-a:9000", "tenantedge-b:9000"}
    assert sorted(targets) == sorted(instances)
