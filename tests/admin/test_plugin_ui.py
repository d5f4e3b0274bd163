"""Plugins in the dashboard, in a real browser: a plugin's settings form generated from its schema, with the
server's errors next to their fields, and its sections in the palette of the tenants that enable it alone."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.admin.test_builder import admin, open_builder, wait_saved
from tests.admin.test_dashboard import (  # noqa: F401 - fixtures
    TOKEN,
    Console,
    browser,
    builder_order,
    open_dashboard,
    playwright,
    public,
    shot,
    site,
)
from tests.plugins.conftest import FIXTURES
from tests.server import Server, copy_demo

PLUGIN = "analytics-snippet"
NOTICE = f"{PLUGIN}/Notice"
PLAUSIBLE = {"provider": "plausible", "site_id": "shop.example"}
# The browser itself logs a refused save's 422; nothing else may appear.
REFUSED = re.compile(r"Failed to load resource: the server responded with a status of 422 ")


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server where plugin broken-import is installed but fails to import, as tests/plugins installs it."""
    folder = tmp_path_factory.mktemp("broken-plugin")
    copy_demo(folder)
    info = folder / "site" / "tenantedge_broken_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text("Metadata-Version: 2.1\nName: tenantedge-broken-plugin\nVersion: 1.0\n")
    info.joinpath("entry_points.txt").write_text("[tenantedge.plugins]\nbroken-import = tefx_broken_import\n")
    path = os.pathsep.join([str(folder / "site"), str(FIXTURES), os.environ.get("PYTHONPATH", "")])
    env = {"TENANTEDGE_ADMIN_TOKEN": TOKEN, "TENANTEDGE_RELOAD_INTERVAL": "0", "PYTHONPATH": path}
    server = Server("--tenants", str(folder / "tenants.json"), env=env)
    yield server
    server.stop()


def new_tenant(site: Server, sections: list[dict[str, Any]], plugins: dict[str, Any] | None = None) -> str:  # noqa: F811
    tenant_id = f"p-{uuid.uuid4().hex[:10]}"
    doc: dict[str, Any] = {"id": tenant_id, "name": "Plugin test", "domains": [f"{tenant_id}.localhost"]}
    doc["pages"] = {"/": sections}
    if plugins is not None:
        doc["plugins"] = plugins
    created = admin(site, "POST", "/api/tenants", doc)
    assert created.status_code in (200, 201), created.text
    return tenant_id


def head(site: Server, tenant_id: str) -> str:  # noqa: F811
    answer = public(site, f"{tenant_id}.localhost")
    assert answer.status_code == 200, answer.text[:300]
    return answer.text.split("</head>")[0]


def open_settings(browser: Browser, site: Server, tenant_id: str) -> tuple[Page, Console]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/settings")
    expect(page.locator("#plugins fieldset[data-plugin=analytics-snippet]")).to_be_visible()
    return page, console


def test_enabling_a_plugin_shows_its_form_and_the_servers_errors_next_to_the_field(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero"}])
    assert "plausible" not in head(site, tenant_id)
    page, console = open_settings(browser, site, tenant_id)
    settings = page.locator("#f-plugin-analytics-snippet-settings")
    expect(settings).to_be_empty()  # no form before the plugin is enabled
    page.click("#f-plugin-analytics-snippet")
    expect(page.locator("#f-plugin-analytics-snippet-provider")).to_have_value("plausible")
    site_id = page.locator("#f-plugin-analytics-snippet-site_id")
    site_id_error = page.locator("#f-plugin-analytics-snippet-site_id + p.error")
    # Enabled with the site id still empty: the server says it is required, next to the field.
    expect(site_id_error).to_contain_text("required")

    site_id.click()
    page.keyboard.type("my shop", delay=40)
    page.wait_for_timeout(600)  # longer than the check's delay: the server's answer arrives
    page.keyboard.type("!", delay=40)
    expect(site_id_error).to_contain_text("expected text matching")
    expect(page.locator("#f-plugin-analytics-snippet-site_id:invalid")).to_have_count(1)
    assert "expected text matching" not in page.locator("#main .grid2 ~ .panel").inner_text()  # not at the bottom
    shot(page, "50-plugin-settings-error")

    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type("shop", delay=40)
    page.wait_for_timeout(600)
    page.keyboard.type(".example", delay=40)
    expect(site_id_error).to_be_empty()
    expect(page.locator("#main .status")).to_have_text("✓ valid, not saved")
    assert "plausible" not in head(site, tenant_id), "nothing changes before the save"
    page.click("#save-tenant")
    expect(page.locator("#main .status")).to_contain_text("saved as version")
    shot(page, "51-plugin-settings-saved")
    assert admin(site, "GET", f"/api/tenants/{tenant_id}").json()["plugins"] == {PLUGIN: PLAUSIBLE}
    expected = '<script defer data-domain="shop.example" src="https://plausible.io/js/script.js"></script>'
    assert expected in head(site, tenant_id)
    assert console.errors == []
    page.context.close()


def test_the_plugins_section_is_added_from_the_palette_filled_in_and_published(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero"}], {PLUGIN: PLAUSIBLE})
    page, console = open_builder(browser, site, tenant_id)
    group = page.locator("#palette .palette-group[data-plugin=analytics-snippet]")
    expect(group.locator("h3")).to_have_text("Analytics")
    notice = group.locator(f"button[data-type='{NOTICE}']")
    expect(notice).to_have_text("+ Analytics notice")
    shot(page, "52-palette-plugin-group")

    hero = page.locator("#sections li[data-type=Hero]")
    box = hero.bounding_box()
    assert box is not None
    notice.drag_to(hero, target_position={"x": 20, "y": box["height"] - 3})  # dropped below the hero
    assert builder_order(page) == ["Hero", NOTICE]
    expect(page.locator("#props h2")).to_have_text("Analytics notice")  # the same prop widgets as built-ins
    page.click("#p-text")
    page.keyboard.press("Control+A")
    page.keyboard.type("We count visits", delay=40)
    page.wait_for_timeout(900)
    page.keyboard.type(" without cookies.", delay=40)
    wait_saved(page)
    page.click("#publish")
    expect(page.locator("#draft-status")).to_contain_text("published as version")
    shot(page, "53-plugin-section-published")

    home = public(site, f"{tenant_id}.localhost")
    assert home.status_code == 200
    assert '<section class="te-section analytics-notice"' in home.text
    assert "We count visits without cookies. (Plausible)" in home.text
    assert console.errors == []
    page.context.close()


def test_a_tenant_without_the_plugin_has_no_plugin_sections_in_its_palette(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero"}])
    page, console = open_builder(browser, site, tenant_id)
    expect(page.locator("#palette button[data-type=Features]")).to_be_visible()
    expect(page.locator(f"#palette button[data-type='{NOTICE}']")).to_have_count(0)
    expect(page.locator("#palette .palette-group")).to_have_count(0)
    shot(page, "54-palette-without-plugin")
    assert console.errors == []
    page.context.close()


def test_switching_off_a_plugin_whose_section_a_page_uses_says_where(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero"}, {"type": NOTICE}], {PLUGIN: PLAUSIBLE})
    page, console = open_settings(browser, site, tenant_id)
    expect(page.locator("#f-plugin-analytics-snippet-site_id")).to_have_value("shop.example")
    page.locator("#f-plugin-analytics-snippet").press("Space")
    expect(page.locator("#f-plugin-analytics-snippet-settings")).to_be_empty()
    used = page.locator("#f-plugin-analytics-snippet-error")
    expect(used).to_have_text(
        "Pages use its sections (/, section 2): remove them in the page builder before switching Analytics off."
    )
    page.click("#save-tenant")  # the server refuses it too, and says the same
    expect(used).to_contain_text("/, section 2")
    expect(page.locator("#main .status")).not_to_contain_text("saved")
    shot(page, "55-plugin-in-use")
    assert 'data-domain="shop.example"' in head(site, tenant_id)
    page.locator("#f-plugin-analytics-snippet").press("Space")  # on again: its settings are back as they were
    expect(page.locator("#f-plugin-analytics-snippet-site_id")).to_have_value("shop.example")
    expect(used).to_be_empty()
    assert [error for error in console.errors if not REFUSED.match(error)] == [], console.errors
    page.context.close()


def test_a_broken_plugins_sections_are_marked_and_not_offered(
    browser: Browser,  # noqa: F811
    broken_site: Server,
) -> None:
    tenant_id = new_tenant(broken_site, [{"type": "Hero"}, {"type": "broken-import/Thing"}], {"broken-import": {}})
    page, console = open_builder(browser, broken_site, tenant_id)
    group = page.locator("#palette .palette-group[data-plugin=broken-import]")
    expect(group).to_have_class(re.compile("broken"))
    expect(group).to_contain_text("unavailable")
    expect(group).to_contain_text("Its sections cannot be added")
    expect(group.locator("button:enabled")).to_have_count(0)
    page.click("#sections li[data-type='broken-import/Thing'] .name")
    expect(page.locator("#props .error")).to_contain_text("comes from broken-import, which is broken")
    shot(page, "56-palette-broken-plugin")
    assert console.errors == []
    page.context.close()
