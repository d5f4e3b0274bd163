"""docker-compose.yml and .env.example: no Docker engine runs here, so check what the engine would be given.
The compose specification's schema is checked in `make lint` (check-jsonschema's vendored compose-spec)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.server import ROOT

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOT = {"migrate", "seed"}


def test_every_service_of_the_topology_is_there() -> None:
    assert set(SERVICES) == {"redis", "postgres", "migrate", "seaweedfs", "seed", "tenantedge-a", "tenantedge-b"} | {
        "nginx",
        "caddy",
        "prometheus",
        "grafana",
    }
    assert SERVICES["nginx"]["profiles"] == ["nginx"] and SERVICES["caddy"]["profiles"] == ["caddy"]
    assert SERVICES["prometheus"]["profiles"] == SERVICES["grafana"]["profiles"] == ["observability"]


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_every_long_running_service_has_a_healthcheck(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"][0] == "CMD"


@pytest.mark.parametrize("name", sorted(ONE_SHOT))
def test_one_shot_services_run_once(name: str) -> None:
    assert SERVICES[name]["restart"] == "no"


@pytest.mark.parametrize("name", ["tenantedge-a", "tenantedge-b"])
def test_the_instances_share_s3_redis_and_postgres_and_wait_for_them(name: str) -> None:
    service = SERVICES[name]
    env = service["environment"]
    assert env["TENANTEDGE_S3_ENDPOINT"] == "http://seaweedfs:8333" and env["TENANTEDGE_S3_BUCKET"] == "tenantedge"
    assert env["TENANTEDGE_REDIS_URL"] == "redis://redis:6379/0"
    assert env["TENANTEDGE_DATABASE_URL"].startswith("postgresql://tenantedge_app:")
    assert int(env["TENANTEDGE_WORKERS"]) > 1 and env["TENANTEDGE_OPS_PORT"] == "9000"
    assert service["env_file"] == ".env"
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert service["depends_on"]["seed"]["condition"] == "service_completed_successfully"
    assert f"-bucket={env['TENANTEDGE_S3_BUCKET']}" in SERVICES["seaweedfs"]["command"]


def test_the_proxies_and_the_observability_services_use_the_configs_of_deploy() -> None:
    for service in ("nginx", "caddy", "prometheus", "grafana"):
        for volume in SERVICES[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), volume
    assert SERVICES["caddy"]["environment"]["CADDY_ASK"] == "http://tenantedge-a:9000/_edge/ask"
    assert SERVICES["nginx"]["environment"]["UPSTREAM_A"] == "tenantedge-a:8000"


def test_grafana_shows_the_dashboard_from_the_prometheus_of_the_profile() -> None:
    mounts = dict(volume.split(":")[:2] for volume in SERVICES["grafana"]["volumes"])
    assert mounts["./deploy/grafana/tenantedge.json"] == "/var/lib/grafana/dashboards/tenantedge.json"
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "tenantedge.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in SERVICES["prometheus"]["volumes"]


def test_no_secret_is_written_in_the_compose_file_and_each_one_is_documented() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert interpolated <= documented, interpolated - documented
    assert {"TENANTEDGE_ADMIN_TOKEN", "AWS_SECRET_ACCESS_KEY", "POSTGRES_PASSWORD"} <= documented
    assert not re.search(r"^\s*\w*(PASSWORD|SECRET|TOKEN)\w*:\s*[^$\s{]", text, re.M), (
        "a secret written in docker-compose.yml"
    )
    assert "TENANTEDGE_ADMIN_TOKEN" not in (ROOT / "Dockerfile").read_text()
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0, ".env must stay out of git"


def test_the_postgres_init_script_creates_the_role_the_migration_expects() -> None:
    script = (ROOT / "deploy" / "postgres-init.sh").read_text()
    migration = next(Path(ROOT / "migrations").glob("0001_*.sql")).read_text()
    assert "CREATE ROLE tenantedge_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS" in script
    assert "CREATE ROLE tenantedge_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS" in migration
