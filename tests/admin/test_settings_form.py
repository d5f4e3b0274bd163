"""In a real browser: the tenant settings speak the operator's language, switching a feature off offers the way out,
and the dashboard can be driven from the keyboard alone, announcing what happens to screen readers."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.admin.test_builder import admin
from tests.admin.test_dashboard import (  # noqa: F401 - fixtures
    TOKEN,
    Console,
    browser,
    open_dashboard,
    playwright,
    public,
    shot,
    site,
)
from tests.server import Server

ASSISTANT = "te-assistant"


def test_features_and_colours_show_titles_help_and_the_presets_own_colours(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/codersinflow/settings")
    assistant = page.locator("label", has=page.locator("#f-feature-aiChat"))
    expect(assistant).to_contain_text("AI assistant")
    expect(assistant).to_contain_text("The AI assistant chat panel")
    expect(page.locator("#f-feature-aiChat")).to_be_checked()
    for technical in ("aiChat", "blogBg", "contactForm"):
        assert technical not in page.locator("#main").inner_text(), f"{technical} is shown to the operator"
    expect(page.locator("label[for=f-color-blogBg]")).to_contain_text("Blog background")
    # codersinflow sets its primary; its text colour is the dark preset's, shown as that colour, not grey.
    expect(page.locator("#f-color-primary")).to_have_value("#7c3aed")
    expect(page.locator("#f-color-text")).to_have_value("#e8eaed")
    expect(page.locator("label[for=f-color-text]")).to_contain_text("(preset)")
    page.select_option("#f-preset", "light")  # colours left on the preset follow it
    expect(page.locator("#f-color-text")).to_have_value("#16181d")
    expect(page.locator("#f-color-primary")).to_have_value("#7c3aed")
    shot(page, "22-settings-labels-and-swatches")
    assert console.errors == []
    context.close()


def test_switching_off_a_feature_in_use_offers_to_remove_its_sections_in_one_save(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    assert ASSISTANT in public(site, "codersinflow.com").text
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/codersinflow/settings")
    page.locator("#f-feature-aiChat").press("Space")  # from the keyboard, as a checkbox is
    offer = page.locator("#remove-sections-aiChat")
    expect(offer).to_be_visible()
    errors = page.locator("#settings-errors")
    expect(errors).to_contain_text("AI assistant: switching off 'aiChat' leaves AIAssistant sections")
    expect(errors).not_to_contain_text("components[")
    shot(page, "18-feature-off-offer")
    assert ASSISTANT in public(site, "codersinflow.com").text, "nothing changes before the operator chooses"
    offer.click()
    expect(page.locator("#main .status")).to_contain_text("saved as version")
    expect(offer).to_have_count(0)
    assert ASSISTANT not in public(site, "codersinflow.com").text
    page.click("#save-tenant")  # what the form holds now is the saved document: a second save is accepted
    expect(page.locator("#main .status")).to_contain_text("saved as version")
    expect(errors).to_be_empty()
    assert console.errors == []
    context.close()


def tab_to(page: Page, selector: str, limit: int = 150) -> None:
    """Press Tab until the focused element matches `selector`: it is reachable from the keyboard, or this fails."""
    target = page.locator(selector)
    expect(target).to_have_count(1)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with Tab within {limit} presses")


def test_keyboard_alone_signs_in_builds_and_publishes_while_screen_readers_hear_each_step(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    console = Console(page)
    page.goto(f"http://admin.localhost:{site.port}/")
    tab_to(page, "#token")
    page.keyboard.type(TOKEN, delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#who")).to_contain_text("signed in as")

    tab_to(page, "a[href='#/t/clientsite']")
    page.keyboard.press("Enter")
    tab_to(page, "[role=tab]:has-text('Pages')")
    page.keyboard.press("Enter")
    tab_to(page, "a[href='#/t/clientsite/page/']")
    page.keyboard.press("Enter")
    status = page.locator("#draft-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("published version")
    sections = page.locator("#sections li.section-item")
    count = sections.count()

    tab_to(page, "#palette button[data-type=CTA]")
    page.keyboard.press("Enter")
    expect(sections).to_have_count(count + 1)
    expect(status).to_have_text("draft saved")  # announced: the status region is aria-live
    tab_to(page, "button[aria-label='Move Call to action up']")
    page.keyboard.press("Enter")
    expect(sections.nth(count - 1)).to_have_attribute("data-type", "CTA")
    tab_to(page, "#p-title")
    page.keyboard.press("Control+a")
    page.keyboard.type("Book a call", delay=40)
    expect(status).to_have_text("draft saved")

    # An error is announced too: a title over the schema's length.
    page.keyboard.type(" " + "x" * 130, delay=2)
    expect(status).to_have_text("not saved: fix the marked sections")
    expect(page.locator("#props [role=alert]").filter(has_text="at most")).to_have_count(1)
    page.keyboard.press("Control+a")
    page.keyboard.type("Book a call", delay=20)
    expect(status).to_have_text("draft saved")

    tab_to(page, "#publish")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("published as version")
    home = public(site, "clientsite.com")
    assert home.status_code == 200 and "Book a call" in home.text
    shot(page, "19-keyboard-published")

    # A conflict is announced in the same region: another admin publishes first.
    etag = admin(site, "GET", "/api/tenants/clientsite").headers["etag"]
    renamed = httpx.patch(
        f"{site.url}/api/tenants/clientsite",
        content=b'{"name": "Clients & Co"}',
        headers={
            "host": "admin.localhost",
            "authorization": f"Bearer {TOKEN}",
            "if-match": etag,
            "content-type": "application/json",
        },
        timeout=10,
    )
    assert renamed.status_code == 200, renamed.text
    tab_to(page, "#p-title")
    page.keyboard.press("End")
    page.keyboard.type("!", delay=20)
    expect(status).to_have_text("draft saved")
    tab_to(page, "#publish")
    page.keyboard.press("Enter")
    expect(status).to_have_text("not published: another admin published first")
    # The browser itself logs the refused draft's 422 and the refused publish's 409; nothing else may appear.
    refused = re.compile(r"Failed to load resource: the server responded with a status of (422|409) ")
    assert [error for error in console.errors if not refused.match(error)] == [], console.errors
    context.close()


def test_the_public_demo_draws_its_feature_icons_as_svg(browser: Browser, site: Server) -> None:  # noqa: F811
    """Defect 11 as a visitor sees it: the icons are drawn (no tofu where no emoji font is installed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    console = Console(page)
    page.goto(f"http://codersinflow.localhost:{site.port}/")
    icons = page.locator(".te-card__icon svg.te-icon")
    expect(icons.first).to_be_visible()
    assert icons.count() >= 3
    for index in range(icons.count()):
        box = icons.nth(index).bounding_box()
        assert box is not None and box["width"] >= 16 and box["height"] >= 16
    page.locator(".te-card__icon").first.scroll_into_view_if_needed()
    shot(page, "21-public-feature-icons")
    # The demo tenant has its own favicon (issue 17): the browser's request for it is no 404.
    assert public(site, "codersinflow.localhost", "/favicon.ico").status_code == 200
    assert console.errors == []
    context.close()
