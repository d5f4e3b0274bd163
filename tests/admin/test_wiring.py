"""Putting the admin together: a host no tenant may serve, and a token that must be worth the name."""

from __future__ import annotations

import re

import pytest

from tenantedge.app import create_app
from tenantedge.errors import ConfigError, DocumentError
from tenantedge.settings import Settings
from tests.admin.conftest import ROOT


@pytest.mark.parametrize(
    ("admin_host", "error", "problem"),
    [
        (
            "codersinflow.com",
            DocumentError,
            "tenants.codersinflow.domains[0]: 'codersinflow.com' is the admin host; no tenant may claim it",
        ),
        (
            "studio.darkflows.com",
            DocumentError,
            "tenants.darkflows.domains[2]: '*.darkflows.com' covers the admin host 'studio.darkflows.com'",
        ),
        ("not a host!", ConfigError, "TENANTEDGE_ADMIN_HOST"),
    ],
    ids=["exact-domain", "wildcard", "malformed"],
)
def test_an_admin_host_a_tenant_serves_is_refused_at_start(
    admin_host: str, error: type[Exception], problem: str
) -> None:
    settings = Settings(
        tenants_file=ROOT / "tenants.json",
        templates_dir=ROOT / "templates",
        admin_host=admin_host,
        admin_token="x" * 16,
    )
    with pytest.raises(error, match=re.escape(problem)):
        create_app(settings)


def test_a_short_admin_token_is_refused() -> None:
    settings = Settings(tenants_file=ROOT / "tenants.json", templates_dir=ROOT / "templates", admin_token="short")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        create_app(settings)
