"""`tenantedge plugins` and `tenantedge validate` with plugins installed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tenantedge.cli import main
from tests.plugins.conftest import write_tenants

pytestmark = pytest.mark.usefixtures("fixture_plugins", "own_environment")


@pytest.fixture
def own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command passes its flags on through TENANTEDGE_* variables (for worker processes): put them back after."""
    monkeypatch.setenv("TENANTEDGE_TENANTS", "tenants.json")
    monkeypatch.delenv("TENANTEDGE_TENANTS")


PLAUSIBLE = {"provider": "plausible", "site_id": "counted.test"}


def test_plugins_lists_each_with_its_hooks_and_the_tenants_enabling_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenants = {
        "counted": {"domains": ["counted.test"], "plugins": {"analytics-snippet": PLAUSIBLE, "broken-import": {}}},
        "quiet": {"domains": ["quiet.test"]},
    }
    assert main(["plugins", str(write_tenants(tmp_path / "tenants.json", tenants)), "--json"]) == 0
    listed = {entry["name"]: entry for entry in orjson.loads(capsys.readouterr().out)}
    assert listed["analytics-snippet"] == {
        "name": "analytics-snippet",
        "version": "0.1.0",
        "requires": ">=0.1,<0.2",
        "status": "loaded",
        "hooks": ["tenantedge_csp", "tenantedge_head", "tenantedge_page_context"],
        "sections": ["analytics-snippet/Notice"],
        "tenants": ["counted"],
    }
    assert listed["broken-import"]["status"] == "broken: RuntimeError: boom at import"
    assert listed["broken-import"]["tenants"] == ["counted"]
    assert listed["echo"]["tenants"] == []


def test_validate_reports_plugin_settings_at_their_json_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenants = {"counted": {"domains": ["counted.test"], "plugins": {"analytics-snippet": {"provider": "ga"}}}}
    assert main(["validate", str(write_tenants(tmp_path / "tenants.json", tenants))]) == 1
    err = capsys.readouterr().err
    assert "tenants.counted.plugins.analytics-snippet.provider: expected one of 'plausible', 'umami', 'matomo'" in err
    assert "tenants.counted.plugins.analytics-snippet.site_id: required prop (string) is missing" in err


def test_validate_fails_for_a_tenant_enabling_a_broken_plugin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenants = {"counted": {"domains": ["counted.test"], "plugins": {"broken-import": {}}}}
    assert main(["validate", str(write_tenants(tmp_path / "tenants.json", tenants))]) == 1
    assert "tenant counted: plugin broken-import is broken: RuntimeError: boom at import" in capsys.readouterr().err
