from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from tenantedge.errors import ConfigError
from tenantedge.settings import Settings


def test_defaults_need_no_services() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.tenants_file == Path("tenants.json") and settings.port == 8000 and settings.trusted_proxies == ()


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "TENANTEDGE_PORT": "9000",
            "TENANTEDGE_WORKERS": "4",
            "TENANTEDGE_DEFAULT_TENANT": "acme",
            "TENANTEDGE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1",
            "TENANTEDGE_TEMPLATE_RELOAD": "yes",
            "TENANTEDGE_ACCESS_LOG": "off",
        }
    )
    assert (settings.port, settings.workers, settings.default_tenant) == (9000, 4, "acme")
    assert ipaddress.ip_network("10.0.0.0/8") in settings.trusted_proxies
    assert settings.template_reload and not settings.access_log


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TENANTEDGE_PORT", "eighty", "TENANTEDGE_PORT: expected a whole number from 0 to 65535, found 'eighty'"),
        ("TENANTEDGE_PORT", "70000", "found '70000'"),
        ("TENANTEDGE_WORKERS", "0", "TENANTEDGE_WORKERS: expected a whole number from 1"),
        ("TENANTEDGE_TRUSTED_PROXIES", "10.0.0.0/8,proxy", "'proxy' is not an IP address"),
        ("TENANTEDGE_TEMPLATE_RELOAD", "maybe", "expected 1/0"),
        ("TENANTEDGE_LOG_LEVEL", "loud", "expected one of critical"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("env", "fragment_bytes"),
    [
        ({}, 0),
        ({"TENANTEDGE_PAGE_CACHE_ENTRIES": "0"}, 64 << 20),
        ({"TENANTEDGE_FRAGMENT_CACHE_MB": "4"}, 4 << 20),
        ({"TENANTEDGE_PAGE_CACHE_ENTRIES": "0", "TENANTEDGE_FRAGMENT_CACHE_MB": "0"}, 0),
    ],
)
def test_fragment_cache_is_on_when_the_page_cache_is_off(env: dict[str, str], fragment_bytes: int) -> None:
    assert Settings.from_env(env).fragment_bytes == fragment_bytes


def test_domain_and_document_limits() -> None:
    assert (Settings().max_domains, Settings().max_tenant_bytes) == (1000, 1 << 20)
    settings = Settings.from_env({"TENANTEDGE_MAX_DOMAINS": "20", "TENANTEDGE_MAX_TENANT_BYTES": "65536"})
    assert (settings.max_domains, settings.max_tenant_bytes) == (20, 65536)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TENANTEDGE_MAX_DOMAINS", "0", "TENANTEDGE_MAX_DOMAINS: expected a whole number from 1 to 100000"),
        ("TENANTEDGE_MAX_DOMAINS", "many", "found 'many'"),
        ("TENANTEDGE_MAX_TENANT_BYTES", "100", "TENANTEDGE_MAX_TENANT_BYTES: expected a whole number from 1024"),
    ],
)
def test_bad_limits_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})
