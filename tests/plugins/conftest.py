"""Plugins installed for real: the misbehaving ones of fixtures/, through an entry_points.txt on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tenantedge.app import create_app
from tenantedge.http.edge import EdgeApp
from tenantedge.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
ENTRY_POINTS = {
    "broken-import": "tefx_broken_import",
    "old-version": "tefx_old_version",
    "misspelt": "tefx_misspelt",
    "failing-start": "tefx_failing_start",
    "raising": "tefx_raising",
    "hanging": "tefx_hanging",
    "sleepy": "tefx_sleepy",
    "echo": "tefx_echo",
    "bad-settings": "tefx_bad_settings",
}
TOKEN = "plugin-tests-admin-token"
ADMIN = "admin.localhost"


@pytest.fixture(scope="module")
def fixture_plugins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The fixture plugins installed as a distribution is: a dist-info folder with entry points, on sys.path."""
    site = tmp_path_factory.mktemp("site-packages")
    info = site / "tenantedge_fixture_plugins-1.0.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text("Metadata-Version: 2.1\nName: tenantedge-fixture-plugins\nVersion: 1.0\n")
    lines = [f"{name} = {module}" for name, module in ENTRY_POINTS.items()]
    info.joinpath("entry_points.txt").write_text("[tenantedge.plugins]\n" + "\n".join(lines) + "\n")
    hanging = sys.modules.get("tefx_hanging")
    if hanging is not None:
        hanging.RELEASE.clear()  # released by an earlier module's teardown: hang again
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(FIXTURES))
        patch.syspath_prepend(str(site))
        yield
    hanging = sys.modules.get("tefx_hanging")
    if hanging is not None:
        hanging.RELEASE.set()  # the abandoned hook's thread ends with the module's tests


def write_tenants(path: Path, tenants: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps({"tenants": tenants}))
    return path


def app_for(tenants_file: Path, **settings: Any) -> EdgeApp:
    defaults: dict[str, Any] = {
        "tenants_file": tenants_file,
        "reload_interval": 0,
        "admin_token": TOKEN,
        "plugin_timeout": 0.3,
        "access_log": "off",
    }
    return create_app(Settings(**{**defaults, **settings}))
