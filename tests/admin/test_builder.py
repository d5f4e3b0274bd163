"""The page builder in a real browser, used as a person uses it: typing with pauses, clicking Undo, dragging.

Screenshots are saved under test-output/dashboard/ for review.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.admin.test_dashboard import TOKEN, Console, browser, builder_order, open_dashboard, playwright, shot, site  # noqa: F401
from tests.server import Server

AUTOSAVE_PAUSE_MS = 900  # longer than the builder's draft autosave delay (500 ms) and its save round trip
ALL_FEATURES = {"blog": True, "aiChat": True, "payments": True, "contactForm": True}


def admin(server: Server, method: str, path: str, body: object = None) -> httpx.Response:
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    content = None if body is None else orjson.dumps(body)
    return httpx.request(method, f"{server.url}{path}", content=content, headers=headers, timeout=10)


def new_tenant(server: Server, sections: list[dict[str, Any]]) -> str:
    tenant_id = f"b-{uuid.uuid4().hex[:10]}"
    doc = {
        "id": tenant_id,
        "name": "Builder test",
        "domains": [f"{tenant_id}.localhost"],
        "pages": {"/": sections},
        "features": ALL_FEATURES,
        "components": ["AIAssistant", "CodeEditor"],
    }
    created = admin(server, "POST", "/api/tenants", doc)
    assert created.status_code in (200, 201), created.text
    return tenant_id


def saved_sections(server: Server, tenant_id: str) -> list[dict[str, Any]]:
    draft = admin(server, "GET", f"/api/tenants/{tenant_id}/drafts/")
    assert draft.status_code == 200, draft.text
    found = draft.json()["page"]
    sections: list[dict[str, Any]] = found if isinstance(found, list) else found["sections"]
    return sections


def open_builder(browser: Browser, site: Server, tenant_id: str) -> tuple[Page, Console]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/page/")
    expect(page.locator("#palette button").first).to_be_visible()
    return page, console


def type_with_pause(page: Page, selector: str, first: str, rest: str, *, replace: bool = False) -> None:
    page.click(selector)
    if replace:
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
    else:
        page.keyboard.press("End")
    page.keyboard.type(first, delay=30)
    page.wait_for_timeout(AUTOSAVE_PAUSE_MS)
    page.keyboard.type(rest, delay=30)


def wait_saved(page: Page) -> None:
    page.wait_for_timeout(700)  # let the autosave's delay pass, then wait for its answer
    expect(page.locator("#draft-status")).to_have_text("draft saved", timeout=10_000)


def test_typing_with_pauses_lands_in_every_field_kind(browser: Browser, site: Server) -> None:  # noqa: F811
    tenant_id = new_tenant(site, [{"type": "Hero"}, {"type": "Blog"}, {"type": "Pricing"}])
    page, console = open_builder(browser, site, tenant_id)
    page.click("#sections li[data-type=Hero] .name")
    type_with_pause(page, "#p-title", "Our legal", " services")  # text
    assert page.evaluate("document.activeElement.id") == "p-title"  # the autosave left the caret alone
    type_with_pause(page, "#p-subtitle", "We draft", " and defend.")  # textarea
    page.click("#sections li[data-type=Blog] .name")
    type_with_pause(page, "#p-posts", "1", "2", replace=True)  # number
    page.click("#sections li[data-type=Pricing] .name")
    type_with_pause(page, "#p-plans-0-features-0", "Unlimited", " drafts", replace=True)  # an item of a list
    added = page.locator("#p-plans-0-features > .list-item").count()
    page.locator("#p-plans-0-features > button").click()
    type_with_pause(page, f"#p-plans-0-features-{added}", "Phone", " support")
    wait_saved(page)
    shot(page, "10-builder-typing")
    hero, blog, pricing = saved_sections(site, tenant_id)
    assert hero["props"]["title"] == "Our legal services"
    assert hero["props"]["subtitle"] == "We draft and defend."
    assert blog["props"]["posts"] == 12
    assert pricing["props"]["plans"][0]["features"][0] == "Unlimited drafts"
    assert pricing["props"]["plans"][0]["features"][added] == "Phone support"
    assert console.errors == []
    page.context.close()


def test_undo_and_redo_step_through_field_edits_adds_and_variants(browser: Browser, site: Server) -> None:  # noqa: F811
    tenant_id = new_tenant(site, [{"type": "Hero", "props": {"title": "Welcome"}}])
    page, console = open_builder(browser, site, tenant_id)
    undo, redo = page.locator("button:has-text('Undo')"), page.locator("button:has-text('Redo')")
    type_with_pause(page, "#p-title", " home", " and garden")  # one burst with a pause is still typed by one person
    wait_saved(page)
    expect(undo).to_be_enabled()
    undo.click()
    expect(page.locator("#p-title")).to_have_value("Welcome")
    wait_saved(page)
    assert saved_sections(site, tenant_id)[0]["props"]["title"] == "Welcome"
    redo.click()
    expect(page.locator("#p-title")).to_have_value("Welcome home and garden")
    page.select_option("#variant", index=1)
    chosen = page.eval_on_selector("#variant", "select => select.value")
    page.click("#palette button[data-type=CTA]")
    assert builder_order(page) == ["Hero", "CTA"]
    page.get_by_role("button", name="Remove Hero").click()
    assert builder_order(page) == ["CTA"]
    undo.click()  # the removal
    assert builder_order(page) == ["Hero", "CTA"]
    undo.click()  # the add
    assert builder_order(page) == ["Hero"]
    undo.click()  # the variant
    expect(page.locator("#variant")).to_have_value("default")
    redo.click()
    expect(page.locator("#variant")).to_have_value(chosen)
    wait_saved(page)
    saved = saved_sections(site, tenant_id)
    assert [s["type"] for s in saved] == ["Hero"] and saved[0]["variant"] == chosen
    assert saved[0]["props"]["title"] == "Welcome home and garden"
    assert console.errors == []
    page.context.close()


def test_every_section_form_round_trips_its_defaults(browser: Browser, site: Server) -> None:  # noqa: F811
    specs = {spec["type"]: spec for spec in admin(site, "GET", "/api/sections").json()["sections"]}
    tenant_id = new_tenant(site, [])
    page, console = open_builder(browser, site, tenant_id)
    expected: list[dict[str, Any]] = []
    for kind, spec in specs.items():
        page.click(f"#palette button[data-type={kind}]")
        expect(page.locator("#props h2")).to_have_text(spec["title"])
        props = {name: prop["default"] for name, prop in spec["props"].items() if "default" in prop}
        for name, prop in spec["props"].items():
            if prop.get("required") and "default" not in prop:
                page.click(f"#p-{name}")
                page.keyboard.type("Needed", delay=20)
                props[name] = "Needed"
        for name, prop in spec["props"].items():
            if prop["type"] == "list":
                # Every item has an input showing its value; adding then removing an item leaves the list as it was.
                for index, item in enumerate(props.get(name, [])):
                    if prop["items"]["type"] == "string":
                        expect(page.locator(f"#p-{name}-{index}")).to_have_value(item)
                page.locator(f"#p-{name} > button").click()  # the list's "Add" button
                page.locator(f"#p-{name} > .list-item").last.locator(":scope > .row > button").click()
        expected.append(props)
    wait_saved(page)
    shot(page, "11-builder-every-section")
    saved = saved_sections(site, tenant_id)
    assert [s["type"] for s in saved] == list(specs)
    for section, props in zip(saved, expected, strict=True):
        assert section.get("props", {}) == props, section["type"]
    # Lists of plain strings are edited as strings: adding one keeps the draft valid.
    page.click("#sections li[data-type=Pricing] .name")
    page.locator("#p-plans-0-features > button").click()
    page.keyboard.press("Tab")
    wait_saved(page)
    assert saved_sections(site, tenant_id)[list(specs).index("Pricing")]["props"]["plans"][0]["features"][-1] == ""
    assert console.errors == []
    page.context.close()


def test_dragging_from_the_palette_inserts_where_dropped(browser: Browser, site: Server) -> None:  # noqa: F811
    tenant_id = new_tenant(site, [{"type": "Hero"}, {"type": "CTA"}])
    page, console = open_builder(browser, site, tenant_id)
    cta = page.locator("#sections li[data-type=CTA]")
    page.locator("#palette button[data-type=Features]").drag_to(cta, target_position={"x": 20, "y": 3})
    assert builder_order(page) == ["Hero", "Features", "CTA"]
    box = cta.bounding_box()
    assert box is not None
    page.locator("#palette button[data-type=Team]").drag_to(cta, target_position={"x": 20, "y": box["height"] - 3})
    assert builder_order(page) == ["Hero", "Features", "CTA", "Team"]
    page.focus("#palette button[data-type=Gallery]")
    page.keyboard.press("Enter")  # the keyboard still adds, at the end
    assert builder_order(page) == ["Hero", "Features", "CTA", "Team", "Gallery"]
    wait_saved(page)
    shot(page, "12-builder-palette-drag")
    assert [s["type"] for s in saved_sections(site, tenant_id)] == ["Hero", "Features", "CTA", "Team", "Gallery"]
    assert console.errors == []
    page.context.close()


@pytest.mark.parametrize(("device", "width"), [("desktop", 1280), ("tablet", 820), ("mobile", 390)])
def test_the_preview_renders_at_the_device_width(browser: Browser, site: Server, device: str, width: int) -> None:  # noqa: F811
    tenant_id = new_tenant(site, [{"type": "Hero"}, {"type": "Features"}])
    page, console = open_builder(browser, site, tenant_id)
    page.get_by_role("button", name=device, exact=True).click()
    frame = page.locator("#preview").element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    for _ in range(50):  # the admin's CSP forbids wait_for_function's eval: poll from here instead
        if frame.evaluate("() => innerWidth") == width:
            break
        page.wait_for_timeout(100)
    assert frame.evaluate("() => innerWidth") == width
    pane = page.locator("#preview-pane").bounding_box()
    shown = page.locator("#preview").bounding_box()
    assert pane is not None and shown is not None and shown["width"] <= pane["width"] + 1  # scaled to fit the pane
    expect(page.get_by_role("button", name=device, exact=True)).to_have_attribute("aria-pressed", "true")
    shot(page, f"13-builder-preview-{device}")
    assert console.errors == []
    page.context.close()


def test_every_section_item_keeps_its_buttons_inside_the_list(browser: Browser, site: Server) -> None:  # noqa: F811
    types = ["Testimonials", "AIAssistant", "Navigation", "Hero"]
    tenant_id = new_tenant(site, [{"type": name} for name in types])
    page, console = open_builder(browser, site, tenant_id)
    expect(page.locator("#sections li.section-item")).to_have_count(len(types))
    boxes: list[dict[str, Any]] = page.eval_on_selector_all(
        "#sections li.section-item",
        """items => items.map(item => {
            const list = item.parentElement.getBoundingClientRect(), own = item.getBoundingClientRect();
            const buttons = [...item.querySelectorAll('button')].map(b => b.getBoundingClientRect().right);
            return {type: item.dataset.type, right: own.right, list: list.right, buttons: Math.max(...buttons)};
        })""",
    )
    for box in boxes:
        assert box["right"] <= box["list"] + 0.5, f"{box['type']}: the item overflows the list: {box}"
        assert box["buttons"] <= box["right"] + 0.5, f"{box['type']}: a button (✕) overflows its item: {box}"
    shot(page, "14-builder-long-section-names")
    assert console.errors == []


def test_one_save_reloads_the_preview_once(browser: Browser, site: Server) -> None:  # noqa: F811
    """The save's answer and its own draft.saved event both ask for the preview: it loads once, not twice."""
    tenant_id = new_tenant(site, [{"type": "Hero"}])
    page, console = open_builder(browser, site, tenant_id)
    loads: list[str] = []
    page.on("request", lambda request: loads.append(request.url) if "?at=" in request.url else None)
    page.wait_for_timeout(800)  # the first load is done
    loads.clear()
    page.click("#p-title")
    page.keyboard.type("Once", delay=30)
    expect(page.locator("#draft-status")).to_have_text("draft saved")
    page.wait_for_timeout(1000)  # the draft.saved event has come back over the socket by now
    assert len(loads) == 1, loads
    assert console.errors == []
    page.context.close()
