"""Per-tenant plugins in the tenant document: settings checked against the plugin's schema, sections gated."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tenantedge.errors import DocumentError
from tenantedge.plugins.discovery import discover
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import Tenant, parse_document

pytestmark = pytest.mark.usefixtures("fixture_plugins")
PLAUSIBLE = {"provider": "plausible", "site_id": "acme.test"}


@pytest.fixture(scope="module")
def plugged(registry: SectionRegistry, fixture_plugins: None) -> SectionRegistry:
    return discover().registry(registry)


def tenant(plugged: SectionRegistry, **fields: Any) -> Tenant:
    document = {"tenants": {"acme": {"domains": ["acme.test"], **fields}}}
    return parse_document(orjson.dumps(document), "tenants.json", plugged).tenants["acme"]


def issues(plugged: SectionRegistry, **fields: Any) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        tenant(plugged, **fields)
    return [str(issue) for issue in caught.value.issues]


def test_enabled_settings_are_validated_with_defaults_filled_in(plugged: SectionRegistry) -> None:
    acme = tenant(plugged, plugins={"analytics-snippet": PLAUSIBLE, "echo": {}})
    assert acme.plugins == {"analytics-snippet": {**PLAUSIBLE, "host": None}, "echo": {"greeting": "hello"}}


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        ({"analytcs-snippet": {}}, "tenants.acme.plugins.analytcs-snippet: unknown plugin 'analytcs-snippet' (did"),
        (["analytics-snippet"], "tenants.acme.plugins: expected an object of plugin settings by name"),
        ({"analytics-snippet": {"site_id": "x"}}, "tenants.acme.plugins.analytics-snippet.provider: required"),
        (
            {"analytics-snippet": {**PLAUSIBLE, "provider": "google"}},
            "tenants.acme.plugins.analytics-snippet.provider: expected one of 'plausible', 'umami', 'matomo'",
        ),
        (
            {"analytics-snippet": {**PLAUSIBLE, "site_id": '"><script>alert(1)</script>'}},
            "tenants.acme.plugins.analytics-snippet.site_id: expected text matching",
        ),
        (
            {"analytics-snippet": {**PLAUSIBLE, "host": "evil.test/x.js?"}},
            "tenants.acme.plugins.analytics-snippet.host: expected text matching",
        ),
        (
            {"analytics-snippet": {**PLAUSIBLE, "host": "https://stats.acme.test"}},
            "tenants.acme.plugins.analytics-snippet.host: expected text matching",
        ),
        ({"analytics-snippet": {**PLAUSIBLE, "extra": 1}}, "tenants.acme.plugins.analytics-snippet.extra: unknown"),
        ({"echo": {"greeting": 7}}, "tenants.acme.plugins.echo.greeting: expected string, found a number 7"),
        ({"contact-form": {"to": "office"}}, "tenants.acme.plugins.contact-form.to: expected text matching"),
        (
            {"contact-form": {"rate_limit_per_hour": 0}},
            "tenants.acme.plugins.contact-form.rate_limit_per_hour: expected at least 1",
        ),
    ],
    ids=[
        "unknown",
        "not-an-object",
        "required",
        "not-allowed",
        "markup",
        "host-path",
        "host-scheme",
        "extra",
        "type",
        "email-format",
        "minimum",
    ],
)
def test_settings_errors_carry_their_json_path(plugged: SectionRegistry, plugins: Any, expected: str) -> None:
    found = issues(plugged, plugins=plugins)
    assert any(issue.startswith(expected) for issue in found), found


def test_a_plugin_section_needs_its_plugin_enabled(plugged: SectionRegistry) -> None:
    found = issues(plugged, pages={"/": [{"type": "Hero"}, {"type": "echo/Box"}]})
    assert found == [
        "tenants.acme.pages[\"/\"][1].type: section 'echo/Box' comes from plugin 'echo', which this tenant "
        "does not enable (add it under 'plugins')"
    ]


def test_a_section_of_a_plugin_not_installed_is_named_so(plugged: SectionRegistry) -> None:
    found = issues(plugged, pages={"/": [{"type": "guestbook/Entry"}]})
    assert found == [
        "tenants.acme.pages[\"/\"][0].type: unknown section 'guestbook/Entry': no plugin 'guestbook' is installed"
    ]


def test_an_enabled_plugin_section_is_validated_like_any_other(plugged: SectionRegistry) -> None:
    found = issues(plugged, plugins={"echo": {}}, pages={"/": [{"type": "echo/Box", "props": {"text": ["x"]}}]})
    assert found == ['tenants.acme.pages["/"][0].props.text: expected string, found a list']
    acme = tenant(plugged, plugins={"echo": {}}, pages={"/": [{"type": "echo/Box"}]})
    assert acme.pages["/"].sections[0].props == {"text": "echo"}


def test_a_broken_plugin_enabled_by_a_tenant_keeps_the_document_loading(plugged: SectionRegistry) -> None:
    """Its settings and sections cannot be checked; the site serves without them rather than not at all."""
    acme = tenant(
        plugged,
        plugins={"broken-import": {"anything": 1}},
        pages={"/": [{"type": "Hero"}, {"type": "broken-import/Widget", "props": {"x": 1}}]},
    )
    assert acme.plugins == {"broken-import": {"anything": 1}}
    assert [section.type for section in acme.pages["/"].sections] == ["Hero", "broken-import/Widget"]
