"""History and conflicts in a real browser: what changed reads in plain language, defaults are not changes.

Screenshots are saved under test-output/dashboard/ for review.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import orjson
from playwright.sync_api import Browser, Page, expect

from tests.admin.test_builder import admin, new_tenant, open_builder, type_with_pause, wait_saved
from tests.admin.test_dashboard import TOKEN, browser, open_dashboard, playwright, shot, site  # noqa: F401 - fixtures
from tests.server import Server


def bare_tenant(server: Server) -> str:
    """A tenant as an operator writes one: no features, components or theme (the forms fill those in)."""
    tenant_id = f"h-{uuid.uuid4().hex[:10]}"
    doc = {
        "id": tenant_id,
        "name": "Conflict test",
        "domains": [f"{tenant_id}.localhost"],
        "pages": {"/": [{"type": "Hero"}]},
    }
    created = admin(server, "POST", "/api/tenants", doc)
    assert created.status_code == 201, created.text
    return tenant_id


def save_as_the_settings_form_does(server: Server, tenant_id: str, **changes: Any) -> None:
    """Another admin's save from the settings tab: the form spells out its defaults (features {}, theme colours)."""
    current = admin(server, "GET", f"/api/tenants/{tenant_id}")
    doc = {**current.json(), "theme": {"colors": {}}, "features": {}, "components": [], **changes}
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    url = f"{server.url}/api/tenants/{tenant_id}"
    saved = httpx.put(
        url, content=orjson.dumps(doc), headers={**headers, "if-match": current.headers["etag"]}, timeout=10
    )
    assert saved.status_code == 200, saved.text


def modal_text(page: Page) -> str:
    text: str = page.locator(".modal").inner_text()
    return text


def test_history_changes_read_as_a_change_list_with_the_raw_diff_behind_a_button(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero", "props": {"title": "Our legal"}}, {"type": "CTA"}])
    page, console = open_builder(browser, site, tenant_id)
    type_with_pause(page, "#p-title", " serv", "ices")
    page.locator("#sections li[data-type=CTA]").get_by_role("button", name=re.compile("^Move .* up$")).click()
    wait_saved(page)
    page.click("#publish")
    expect(page.locator("#draft-status")).to_contain_text("published as version 2")

    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/history")
    page.locator("tr", has_text="v2").get_by_role("button", name="Changes").click()
    changes = page.locator(".modal .change-list")
    expect(changes.locator("h3")).to_have_text(["Page /"])
    expect(changes.locator("li")).to_have_text(
        ["CTA moved from position 2 to 1", "Hero: title changed from “Our legal” to “Our legal services”"]
    )
    raw = page.locator(".modal .raw-diff")
    toggle = page.get_by_role("button", name="Show raw diff")
    expect(raw).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    shot(page, "15-history-changes")
    toggle.click()
    expect(page.get_by_role("button", name="Hide raw diff")).to_have_attribute("aria-expanded", "true")
    expect(raw).to_be_visible()
    expect(raw).to_contain_text("/pages/~1/0")
    page.keyboard.press("Escape")
    expect(page.locator(".modal")).to_have_count(0)
    assert console.errors == []
    page.context.close()


def test_a_settings_conflict_lists_only_the_real_changes(browser: Browser, site: Server) -> None:  # noqa: F811
    tenant_id = bare_tenant(site)
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/settings")
    expect(page.locator("#f-name")).to_have_value("Conflict test")
    save_as_the_settings_form_does(site, tenant_id, name="Conflict test (theirs)")
    page.click("#f-description")
    page.keyboard.type("Ours", delay=30)
    page.wait_for_timeout(400)
    page.keyboard.type(" too", delay=30)
    page.click("#save-tenant")
    modal = page.locator(".modal")
    expect(modal).to_contain_text("Someone else saved this tenant")
    lists = modal.locator(".change-list")
    expect(lists.nth(0)).to_contain_text("Name changed from “Conflict test” to “Conflict test (theirs)”")
    expect(lists.nth(1)).to_contain_text("Description set to “Ours too”")
    shot(page, "16-conflict")
    text = modal_text(page)
    for noise in ("features", "Features", "components", "theme", "Theme", "undefined", "{}"):
        assert noise not in text, f"{noise!r} is not a change: {text}"
    modal.get_by_role("button", name="Overwrite with mine").click()
    expect(page.locator(".status")).to_contain_text("saved as version 3")
    # The browser itself logs the refused save's 409; that is the conflict being detected, nothing else is.
    assert [error for error in console.errors if "(Conflict)" not in error] == []
    context.close()


def test_a_publish_conflict_in_the_builder_lists_their_changes_and_is_announced(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = bare_tenant(site)
    page, console = open_builder(browser, site, tenant_id)
    expect(page.locator("#draft-status")).to_have_attribute("aria-live", "polite")
    type_with_pause(page, "#p-title", "Ours", " first")
    wait_saved(page)
    save_as_the_settings_form_does(site, tenant_id, name="Renamed elsewhere")
    page.click("#publish")
    modal = page.locator(".modal")
    expect(modal).to_contain_text("Someone else published this tenant")
    expect(modal.locator(".change-list li")).to_have_text(["Name changed from “Conflict test” to “Renamed elsewhere”"])
    expect(page.locator("#draft-status")).to_have_text("not published: another admin published first")
    shot(page, "17-builder-conflict")
    assert "undefined" not in modal_text(page) and "features" not in modal_text(page)
    modal.get_by_role("button", name="Publish mine").click()
    expect(page.locator("#draft-status")).to_contain_text("published as version 3")
    published = admin(site, "GET", f"/api/tenants/{tenant_id}").json()
    assert published["name"] == "Renamed elsewhere"  # their change stays
    assert published["pages"]["/"][0]["props"]["title"] == "Ours first"
    assert [error for error in console.errors if "(Conflict)" not in error] == []
    page.context.close()
