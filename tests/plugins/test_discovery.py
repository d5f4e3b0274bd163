"""Discovery: plugins found through real entry points; each broken one disabled with its name and reason."""

from __future__ import annotations

import logging

import pytest

from tenantedge.plugins.discovery import discover
from tenantedge.sections import SectionRegistry

pytestmark = pytest.mark.usefixtures("fixture_plugins")


def test_the_analytics_plugin_is_found_through_its_installed_entry_point() -> None:
    found = discover()
    plugin = found.loaded["analytics-snippet"]
    assert plugin.manifest.version == "0.1.0"
    assert plugin.hooks == {"tenantedge_head", "tenantedge_csp", "tenantedge_page_context"}
    assert plugin.schema.sections == ("analytics-snippet/Notice",)
    assert set(plugin.schema.settings) == {"provider", "site_id", "host"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("broken-import", "RuntimeError: boom at import"),
        ("old-version", "supports tenantedge >=99"),
        ("misspelt", "tenantedge_haed"),
        ("failing-start", "RuntimeError: boom at startup"),
    ],
    ids=["raises-at-import", "unsupported-version", "unknown-hook", "raises-at-startup"],
)
def test_a_broken_plugin_is_disabled_and_logged_with_its_name(
    name: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tenantedge.plugins"):
        found = discover()
    assert name not in found.loaded
    broken = found.broken[name].broken
    assert broken is not None and reason in broken
    assert any(f"plugin {name}: disabled" in record.getMessage() for record in caplog.records)


def test_the_working_fixture_plugins_load_beside_the_broken_ones() -> None:
    found = discover()
    assert {"raising", "hanging", "sleepy", "echo", "analytics-snippet"} <= set(found.loaded)
    assert found.loaded["sleepy"].asynchronous == {"tenantedge_page_context"}
    assert found.loaded["hanging"].asynchronous == frozenset()


def test_the_registry_holds_plugin_sections_under_their_namespace(builtin_registry: SectionRegistry) -> None:
    registry = builtin_registry
    combined = discover().registry(registry)
    assert "echo/Box" in combined and "raising/Box" in combined
    echo = combined.get("echo/Box")
    assert echo is not None and echo.plugin == "echo"
    repository = ("analytics-snippet", "contact-form")
    assert len(combined) == len(registry) + sum(len(combined.plugins[name].sections) for name in repository) + 2
    palette = {spec.type for spec in combined.available(["echo"])}
    assert "echo/Box" in palette and "raising/Box" not in palette and "Hero" in palette
