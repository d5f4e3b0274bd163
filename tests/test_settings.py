from __future__ import annotations

import ipaddress
import resource
from pathlib import Path

import pytest

from tenantedge.errors import ConfigError
from tenantedge.http.limits import RESERVED_FILES, HttpLimits, connection_cap
from tenantedge.settings import Settings


def test_defaults_need_no_services() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.tenants_file == Path("tenants.json") and settings.port == 8000 and settings.trusted_proxies == ()
    assert settings.ops_port == 0 and settings.ops_host == "127.0.0.1"  # no operations listener


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "TENANTEDGE_PORT": "9000",
            "TENANTEDGE_WORKERS": "4",
            "TENANTEDGE_DEFAULT_TENANT": "acme",
            "TENANTEDGE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1",
            "TENANTEDGE_TEMPLATE_RELOAD": "yes",
            "TENANTEDGE_ACCESS_LOG": "off",
            "TENANTEDGE_OPS_PORT": "9100",
            "TENANTEDGE_OPS_HOST": " 10.0.0.5 ",
        }
    )
    assert (settings.port, settings.workers, settings.default_tenant) == (9000, 4, "acme")
    assert (settings.ops_host, settings.ops_port) == ("10.0.0.5", 9100)
    assert ipaddress.ip_network("10.0.0.0/8") in settings.trusted_proxies
    assert settings.template_reload and settings.access_log == "off"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TENANTEDGE_PORT", "eighty", "TENANTEDGE_PORT: expected a whole number from 0 to 65535, found 'eighty'"),
        ("TENANTEDGE_PORT", "70000", "found '70000'"),
        ("TENANTEDGE_WORKERS", "0", "TENANTEDGE_WORKERS: expected a whole number from 1"),
        ("TENANTEDGE_OPS_PORT", "-1", "TENANTEDGE_OPS_PORT: expected a whole number from 0 to 65535, found '-1'"),
        ("TENANTEDGE_OPS_PORT", "ops", "TENANTEDGE_OPS_PORT: expected a whole number"),
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


# Connection limits (hardening)
def test_connection_limits_default_to_what_the_protocol_assumes() -> None:
    settings, limits = Settings(), HttpLimits()
    assert (settings.max_url_bytes, settings.max_header_bytes, settings.max_headers) == (
        limits.max_url_bytes,
        limits.max_header_bytes,
        limits.max_headers,
    )
    assert (settings.header_timeout, settings.max_connections) == (limits.header_timeout, limits.max_connections)
    assert settings.keep_alive_timeout == 5  # uvicorn's own default


def test_connection_limits_are_read() -> None:
    settings = Settings.from_env(
        {
            "TENANTEDGE_MAX_URL_BYTES": "4096",
            "TENANTEDGE_MAX_HEADER_BYTES": "65536",
            "TENANTEDGE_MAX_HEADERS": "50",
            "TENANTEDGE_HEADER_TIMEOUT": "2.5",
            "TENANTEDGE_KEEP_ALIVE_TIMEOUT": "30",
            "TENANTEDGE_MAX_CONNECTIONS": "500",
        }
    )
    assert (settings.max_url_bytes, settings.max_header_bytes, settings.max_headers) == (4096, 65536, 50)
    assert (settings.header_timeout, settings.keep_alive_timeout, settings.max_connections) == (2.5, 30, 500)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TENANTEDGE_MAX_URL_BYTES", "10"),
        ("TENANTEDGE_MAX_HEADER_BYTES", "100"),
        ("TENANTEDGE_MAX_HEADER_BYTES", "16k"),
        ("TENANTEDGE_MAX_HEADERS", "0"),
        ("TENANTEDGE_HEADER_TIMEOUT", "0"),
        ("TENANTEDGE_KEEP_ALIVE_TIMEOUT", "0.5"),
        ("TENANTEDGE_MAX_CONNECTIONS", "0"),
    ],
)
def test_connection_limits_out_of_bounds_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{name}: expected"):
        Settings.from_env({name: value})


def test_the_connection_cap_leaves_room_under_the_open_file_limit() -> None:
    assert connection_cap(10) == 10
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # raised to the hard limit by the call
    assert soft == hard or hard == resource.RLIM_INFINITY
    assert connection_cap(10**9) == max(1, soft - RESERVED_FILES)


# Admin sign-in limits (hardening)
def test_admin_sign_in_limits() -> None:
    assert (Settings().admin_failures, Settings().admin_failure_window) == (10, 60.0)
    settings = Settings.from_env({"TENANTEDGE_ADMIN_FAILURES": "3", "TENANTEDGE_ADMIN_FAILURE_WINDOW": "900"})
    assert (settings.admin_failures, settings.admin_failure_window) == (3, 900.0)


# Domain and document limits (hardening)
def test_domain_and_document_limits() -> None:
    assert (Settings().max_domains, Settings().max_tenant_bytes) == (1000, 1 << 20)
    settings = Settings.from_env({"TENANTEDGE_MAX_DOMAINS": "20", "TENANTEDGE_MAX_TENANT_BYTES": "65536"})
    assert (settings.max_domains, settings.max_tenant_bytes) == (20, 65536)
    assert (Settings().max_sections, Settings().max_custom_css_bytes) == (100, 65536)
    settings = Settings.from_env({"TENANTEDGE_MAX_SECTIONS": "12", "TENANTEDGE_MAX_CUSTOM_CSS_BYTES": "0"})
    assert (settings.max_sections, settings.max_custom_css_bytes) == (12, 0)
    with pytest.raises(ConfigError, match="TENANTEDGE_MAX_SECTIONS: expected a whole number from 1"):
        Settings.from_env({"TENANTEDGE_MAX_SECTIONS": "0"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TENANTEDGE_ADMIN_FAILURES", "0", "TENANTEDGE_ADMIN_FAILURES: expected a whole number from 1"),
        ("TENANTEDGE_ADMIN_FAILURES", "ten", "found 'ten'"),
        ("TENANTEDGE_ADMIN_FAILURE_WINDOW", "0.5", "TENANTEDGE_ADMIN_FAILURE_WINDOW: expected a number from 1"),
        ("TENANTEDGE_ADMIN_FAILURE_WINDOW", "forever", "found 'forever'"),
    ],
    ids=["failures-zero", "failures-word", "window-too-short", "window-word"],
)
def test_admin_sign_in_limits_refuse_bad_values(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TENANTEDGE_MAX_DOMAINS", "0", "TENANTEDGE_MAX_DOMAINS: expected a whole number from 1 to 100000"),
        ("TENANTEDGE_MAX_DOMAINS", "many", "found 'many'"),
        ("TENANTEDGE_MAX_TENANT_BYTES", "100", "TENANTEDGE_MAX_TENANT_BYTES: expected a whole number from 1024"),
    ],
)
def test_domain_and_document_limits_refuse_bad_values(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


# WebSocket limits (hardening)
def test_websocket_limits() -> None:
    defaults = Settings()
    assert (defaults.ws_max_message_bytes, defaults.ws_auth_timeout, defaults.ws_queue) == (65536, 5.0, 256)
    env = {"TENANTEDGE_WS_MAX_MESSAGE_BYTES": "4096", "TENANTEDGE_WS_AUTH_TIMEOUT": "0.5", "TENANTEDGE_WS_QUEUE": "8"}
    settings = Settings.from_env(env)
    assert (settings.ws_max_message_bytes, settings.ws_auth_timeout, settings.ws_queue) == (4096, 0.5, 8)
    with pytest.raises(ConfigError, match="TENANTEDGE_WS_MAX_MESSAGE_BYTES: expected a whole number from 1024"):
        Settings.from_env({"TENANTEDGE_WS_MAX_MESSAGE_BYTES": "12"})


def test_experiment_settings_are_read() -> None:
    assert (Settings.from_env({}).visitor_cookie, Settings.from_env({}).experiment_consent) == ("te_vid", False)
    env = {
        "TENANTEDGE_VISITOR_COOKIE": "ab_id",
        "TENANTEDGE_EXPERIMENT_CONSENT": "1",
        "TENANTEDGE_CONSENT_COOKIE": "ok",
    }
    settings = Settings.from_env(env)
    assert (settings.visitor_cookie, settings.experiment_consent, settings.consent_cookie) == ("ab_id", True, "ok")
    with pytest.raises(ConfigError, match="TENANTEDGE_VISITOR_COOKIE: expected a cookie name"):
        Settings.from_env({"TENANTEDGE_VISITOR_COOKIE": "a b;c"})
