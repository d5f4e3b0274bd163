"""Putting the admin together: a host no tenant may serve, and a token that must be worth the name."""

from __future__ import annotations

import pytest

from tenantedge.app import create_app
from tenantedge.errors import ConfigError
from tenantedge.settings import Settings
from tests.admin.conftest import ROOT


@pytest.mark.parametrize(
    ("admin_host", "problem"),
    [
        ("codersinflow.com", "claimed by tenant 'codersinflow'"),
        ("studio.darkflows.com", "claimed by tenant 'darkflows'"),  # through its *.darkflows.com wildcard
        ("not a host!", "TENANTEDGE_ADMIN_HOST"),
    ],
    ids=["exact-domain", "wildcard", "malformed"],
)
def test_an_admin_host_a_tenant_serves_is_refused_at_start(admin_host: str, problem: str) -> None:
    settings = Settings(
        tenants_file=ROOT / "tenants.json",
        templates_dir=ROOT / "templates",
        admin_host=admin_host,
        admin_token="x" * 16,
    )
    with pytest.raises(ConfigError, match=problem):
        create_app(settings)


def test_a_short_admin_token_is_refused() -> None:
    settings = Settings(tenants_file=ROOT / "tenants.json", templates_dir=ROOT / "templates", admin_token="short")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        create_app(settings)
