"""In a real browser: what the dashboard adds (a page, a tenant) stays off the public hosts until it is published."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.admin.conftest import NO_SITE
from tests.admin.test_dashboard import browser, open_dashboard, playwright, public, shot, site  # noqa: F401 - fixtures
from tests.server import Server


def test_add_page_makes_a_draft_that_is_served_only_once_published(browser: Browser, site: Server) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/basicsite/pages")
    page.click("#new-page")
    page.keyboard.type("/services", delay=30)
    page.click("button:has-text('Add page')")
    expect(page.locator("#draft-status")).to_have_text("draft loaded")
    assert public(site, "basicsite.com", "/services").status_code == 404  # a draft, not a published page

    page.goto(f"http://admin.localhost:{site.port}/#/t/basicsite/pages")
    row = page.locator("tr.draft-only", has_text="/services")
    expect(row).to_contain_text("draft, not published")
    row.locator("a").click()
    expect(page.locator("#draft-status")).to_have_text("draft loaded")
    page.click("#publish")
    expect(page.locator("#draft-status")).to_contain_text("published as version")
    live = public(site, "basicsite.com", "/services")
    assert live.status_code == 200 and "services" in live.text

    # A draft-only page can be discarded from the list; it was never public.
    page.goto(f"http://admin.localhost:{site.port}/#/t/basicsite/pages")
    page.click("#new-page")
    page.keyboard.type("/later", delay=30)
    page.click("button:has-text('Add page')")
    expect(page.locator("#draft-status")).to_have_text("draft loaded")
    page.goto(f"http://admin.localhost:{site.port}/#/t/basicsite/pages")
    page.locator("tr.draft-only", has_text="/later").get_by_role("button", name="Discard").click()
    page.click(".modal button:has-text('Discard')")
    expect(page.locator("tr.draft-only")).to_have_count(0)
    assert public(site, "basicsite.com", "/later").status_code == 404
    assert console.errors == []
    context.close()


def test_a_new_tenant_shows_no_site_until_its_first_publish(browser: Browser, site: Server) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page, console = open_dashboard(context, site)
    page.click("text=New tenant")
    for field, text in (
        ("#new-id", "north-desk"),
        ("#new-name", "North Desk"),
        ("#new-domain", "north-desk.localhost"),
    ):
        page.click(field)
        page.keyboard.type(text, delay=20)
    page.select_option("#new-starter", "business")
    page.click(".modal button:has-text('Create')")
    expect(page.locator("#f-name")).to_have_value("North Desk")
    waiting = public(site, "north-desk.localhost")
    assert waiting.status_code == 404 and NO_SITE in waiting.text
    assert "North Desk" not in waiting.text and "Consulting" not in waiting.text

    page.click("role=tab[name='Pages']")
    expect(page.locator("#unpublished-note")).to_contain_text("Not published yet")
    page.click("a:has-text('/')")
    expect(page.locator("#sections li.section-item")).to_have_count(4)
    page.click("#publish")
    expect(page.locator("#draft-status")).to_contain_text("published as version 2")
    live = public(site, "north-desk.localhost")
    assert live.status_code == 200 and "North Desk" in live.text
    assert console.errors == []
    context.close()


def test_a_new_tenant_may_show_coming_soon_and_is_listed_as_not_published(browser: Browser, site: Server) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page, console = open_dashboard(context, site)
    page.click("text=New tenant")
    for field, text in (("#new-id", "soon-shop"), ("#new-name", "Soon Shop"), ("#new-domain", "soon-shop.localhost")):
        page.click(field)
        page.keyboard.type(text, delay=20)
    page.locator("#new-coming-soon").press("Space")
    page.click(".modal button:has-text('Create')")
    expect(page.locator("#f-name")).to_have_value("Soon Shop")
    expect(page.locator("#f-coming-soon")).to_be_checked()
    waiting = public(site, "soon-shop.localhost")
    assert waiting.status_code == 200 and "Soon Shop" in waiting.text and "coming soon" in waiting.text.lower()
    assert "Consulting" not in waiting.text, "none of the starter's placeholder copy"

    page.goto(f"http://admin.localhost:{site.port}/#/")
    row = page.locator("tr[data-tenant=soon-shop]")
    expect(row.locator(".badge.draft")).to_have_text("not published")
    expect(page.locator("tr[data-tenant=basicsite] .badge.draft")).to_have_count(0)
    shot(page, "20-tenant-list-not-published")

    # Switched back to 'no site' from the settings, then deleted: the dialog says nothing public changes.
    page.goto(f"http://admin.localhost:{site.port}/#/t/soon-shop/settings")
    page.locator("#f-coming-soon").press("Space")
    page.click("#save-tenant")
    expect(page.locator("#main .status")).to_contain_text("saved as version")
    assert public(site, "soon-shop.localhost").status_code == 404
    page.click("button:has-text('Delete tenant')")
    expect(page.locator(".modal")).to_contain_text("It was never published: nothing public changes")
    page.click("#confirm-id")
    page.keyboard.type("soon-shop", delay=20)
    page.click(".modal button:has-text('Delete')")
    expect(page.locator("tr[data-tenant=soon-shop]")).to_have_count(0)
    assert console.errors == []
    context.close()
