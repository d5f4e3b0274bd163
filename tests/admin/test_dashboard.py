"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real server.

Screenshots of the main screens are saved under test-output/dashboard/ for review.
"""

from __future__ import annotations

import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.server import ROOT, Server, copy_demo

TOKEN = "dashboard-test-token-0001"
SCOPED = "dashboard-scoped-token-01"
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-output" / "dashboard"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("dashboard")
    copy_demo(folder)
    tokens = {"tokens": [{"name": "bakery-editor", "token": SCOPED, "tenants": ["basicsite"]}]}
    (folder / "tokens.json").write_bytes(orjson.dumps(tokens))
    env = {
        "TENANTEDGE_ADMIN_TOKEN": TOKEN,
        "TENANTEDGE_ADMIN_TOKENS_FILE": str(folder / "tokens.json"),
        "TENANTEDGE_RELOAD_INTERVAL": "0",
    }
    server = Server("--tenants", str(folder / "tenants.json"), env=env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as found:
        yield found


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield browser
    browser.close()


class Console:
    """Errors the page logged or threw: a product page logs none."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


def open_dashboard(context: BrowserContext, site: Server, token: str = TOKEN) -> tuple[Page, Console]:
    page = context.new_page()
    console = Console(page)
    page.goto(f"http://admin.localhost:{site.port}/")
    page.fill("#token", token)
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_contain_text("signed in as")
    return page, console


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def public(site: Server, host: str, path: str = "/") -> httpx.Response:
    return site.get(host, path)


def section_order(html: str) -> list[str]:
    return re.findall(r'<section class="te-section te-(\w+)', html)


def builder_order(page: Page) -> list[str]:
    order: list[str] = page.eval_on_selector_all("#sections li.section-item", "items => items.map(i => i.dataset.type)")
    return order


def test_sign_in_create_build_publish_and_roll_back(browser: Browser, site: Server) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console = Console(page)
    page.goto(f"http://admin.localhost:{site.port}/")
    expect(page.locator("#token")).to_be_visible()
    shot(page, "01-sign-in")
    page.fill("#token", "not-the-token-at-all")
    page.click("button[type=submit]")
    expect(page.locator(".signin .error")).to_contain_text("not valid")
    console.errors.clear()  # the browser logs the refused sign-in's 401 itself; nothing else may follow
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    expect(page.locator("table")).to_contain_text("Basic Bakery")
    shot(page, "02-tenants")

    page.click("text=New tenant")
    page.click("#new-id")
    page.keyboard.type("Not An Id", delay=20)
    expect(page.locator("#new-id:invalid")).to_have_count(1)  # the browser checks the id's pattern as it is typed
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    # Typed as a person types, with pauses longer than any autosave or check: no key may be dropped.
    for field, parts in (("#new-id", ("corner", "-shop")), ("#new-name", ("Corner", " Shop"))):
        page.click(field)
        page.keyboard.type(parts[0], delay=40)
        page.wait_for_timeout(900)
        page.keyboard.type(parts[1], delay=40)
    page.click("#new-domain")
    page.keyboard.type("corner-shop.localhost", delay=20)
    expect(page.locator("#new-name")).to_have_value("Corner Shop")
    expect(page.locator("#new-id:valid")).to_have_value("corner-shop")
    page.select_option("#new-starter", "blank")
    page.click(".modal button:has-text('Create')")
    expect(page.locator("#f-name")).to_have_value("Corner Shop")
    shot(page, "03-tenant-settings")
    assert public(site, "corner-shop.localhost").status_code == 404  # not served before its first publish

    page.click("role=tab[name='Pages']")
    page.click("a:has-text('/')")
    expect(page.locator("#sections li.section-item")).to_have_count(1)
    for section in ("Features", "CTA", "Team"):
        page.click(f"#palette button[data-type={section}]")
    assert builder_order(page) == ["Hero", "Features", "CTA", "Team"]
    # Drag Team to the top, then CTA above Features: the order is built by dragging.
    page.drag_and_drop("#sections li[data-type=Team] .handle", "#sections li[data-type=Hero]")
    page.drag_and_drop("#sections li[data-type=CTA] .handle", "#sections li[data-type=Features]")
    assert builder_order(page) == ["Team", "Hero", "CTA", "Features"]
    page.click("#sections li[data-type=Features] .name")
    page.fill("#p-title", "Why neighbours shop here")
    expect(page.locator("#draft-status")).to_have_text("draft saved", timeout=10_000)
    preview = page.frame_locator("#preview")
    expect(preview.locator("text=Why neighbours shop here")).to_be_visible(timeout=10_000)
    assert "Why neighbours shop here" not in public(site, "corner-shop.localhost").text  # a draft is not public
    shot(page, "04-page-builder")

    page.click("#publish")
    expect(page.locator("#draft-status")).to_contain_text("published as version 2")
    live = public(site, "corner-shop.localhost")
    assert section_order(live.text) == ["team", "hero", "cta", "features"]
    assert "Why neighbours shop here" in live.text

    page.goto(f"http://admin.localhost:{site.port}/#/t/corner-shop/history")
    expect(page.locator("table")).to_contain_text("v2")
    shot(page, "05-history")
    page.click("tr:has-text('v1') button:has-text('Roll back')")
    page.click(".modal button:has-text('Roll back')")
    expect(page.locator("table")).to_contain_text("rollback to 1")
    rolled = public(site, "corner-shop.localhost")
    assert section_order(rolled.text) == ["hero"] and "Why neighbours shop here" not in rolled.text
    assert console.errors == []
    context.close()


def test_keyboard_reorder_undo_and_redo(browser: Browser, site: Server) -> None:
    context = browser.new_context()
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/darkflows/page/work")
    expect(page.locator("#sections li.section-item").first).to_be_visible()
    before = builder_order(page)
    page.locator("#sections li.section-item").nth(1).get_by_role("button", name=re.compile("Move .* up")).click()
    moved = builder_order(page)
    assert moved == [before[1], before[0], *before[2:]]
    page.click("button:has-text('Undo')")
    assert builder_order(page) == before
    page.click("button:has-text('Redo')")
    assert builder_order(page) == moved
    assert console.errors == []
    context.close()


def test_two_admins_editing_the_same_tenant_get_a_conflict_not_a_silent_loss(browser: Browser, site: Server) -> None:
    first_context, second_context = browser.new_context(), browser.new_context()
    first, first_console = open_dashboard(first_context, site)
    second, second_console = open_dashboard(second_context, site)
    for page in (first, second):
        page.goto(f"http://admin.localhost:{site.port}/#/t/clientsite/settings")
        expect(page.locator("#f-name")).to_be_visible()
    first.fill("#f-name", "Harbor & Pine (first)")
    first.click("#save-tenant")
    expect(first.locator(".status")).to_contain_text("saved as version")
    second.fill("#f-name", "Harbor & Pine (second)")
    second.click("#save-tenant")
    modal = second.locator(".modal")
    expect(modal).to_contain_text("Someone else saved this tenant")
    expect(modal).to_contain_text("Harbor & Pine (first)")  # what changed is shown before anything is decided
    shot(second, "06-conflict")
    assert "Harbor &amp; Pine (first)" in public(site, "clientsite.localhost").text
    modal.get_by_role("button", name="Overwrite with mine").click()
    expect(second.locator(".status")).to_contain_text("saved as version")
    assert "Harbor &amp; Pine (second)" in public(site, "clientsite.localhost").text
    # The browser itself logs the refused save's 409; that is the conflict being detected, nothing else is.
    assert first_console.errors == [] and [e for e in second_console.errors if "(Conflict)" not in e] == []
    first_context.close()
    second_context.close()


def test_an_admin_sees_a_notice_when_someone_else_publishes_the_page(browser: Browser, site: Server) -> None:
    context = browser.new_context()
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/basicsite/page/")
    expect(page.locator("#sections li.section-item").first).to_be_visible()
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    current = httpx.get(f"{site.url}/api/tenants/basicsite", headers=headers, timeout=10)
    change = {"name": "Basic Bakery, renamed elsewhere"}
    updated = httpx.patch(
        f"{site.url}/api/tenants/basicsite",
        content=orjson.dumps(change),
        headers={**headers, "content-type": "application/json", "if-match": current.headers["etag"]},
        timeout=10,
    )
    assert updated.status_code == 200
    expect(page.locator("#notice")).to_contain_text("Another admin published", timeout=10_000)
    assert console.errors == []
    context.close()


def test_domains_are_checked_as_the_admin_types(browser: Browser, site: Server) -> None:
    context = browser.new_context()
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/darkflows/settings")
    domains = page.locator("#f-domains")
    domains.fill("darkflows.com\ncodersinflow.com")
    expect(page.locator("#settings-errors")).to_contain_text("belongs to tenant 'codersinflow'", timeout=5_000)
    expect(domains).to_have_class(re.compile("invalid"))
    domains.fill("darkflows.com\nnew-darkflows.example")
    expect(page.locator(".status")).to_contain_text("valid, not saved", timeout=5_000)
    assert console.errors == []
    context.close()


def test_a_scoped_token_sees_only_its_tenants(browser: Browser, site: Server) -> None:
    context = browser.new_context()
    page, console = open_dashboard(context, site, SCOPED)
    expect(page.locator("table")).to_contain_text("basicsite")
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.goto(f"http://admin.localhost:{site.port}/#/t/codersinflow")
    expect(page.locator("main")).to_contain_text("no tenant 'codersinflow'")
    assert [error for error in console.errors if "404" not in error] == []
    context.close()


def test_the_session_cookie_is_http_only_strict_and_needs_the_csrf_header(site: Server) -> None:
    signed = httpx.post(
        f"{site.url}/api/session",
        content=orjson.dumps({"token": TOKEN}),
        headers={"host": "admin.localhost", "content-type": "application/json"},
        timeout=10,
    )
    assert signed.status_code == 200
    cookies = signed.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("tenantedge_admin="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    csrf = signed.json()["csrf"]
    jar = {"tenantedge_admin": TOKEN}
    base = {"host": "admin.localhost", "content-type": "application/json"}
    body = orjson.dumps({"name": "Bakery"})
    with httpx.Client(base_url=site.url, cookies=jar, timeout=10) as client:
        assert client.get("/api/tenants/basicsite", headers={"host": "admin.localhost"}).status_code == 200
        forged = client.patch("/api/tenants/basicsite", content=body, headers={**base, "if-match": "*"})
        assert forged.status_code == 403 and "x-csrf-token" in forged.json()["detail"]
        wrong = client.patch(
            "/api/tenants/basicsite", content=body, headers={**base, "if-match": "*", "x-csrf-token": "0" * 64}
        )
        assert wrong.status_code == 403
        allowed = client.patch(
            "/api/tenants/basicsite", content=body, headers={**base, "if-match": "*", "x-csrf-token": csrf}
        )
        assert allowed.status_code == 200


def test_the_dashboard_fetches_nothing_from_elsewhere(site: Server) -> None:
    shell = httpx.get(f"{site.url}/", headers={"host": "admin.localhost"}, timeout=10)
    assert shell.status_code == 200 and "default-src 'self'" in shell.headers["content-security-policy"]
    assets = [shell.text] + [
        httpx.get(f"{site.url}/ui/{name}", headers={"host": "admin.localhost"}, timeout=10).text
        for name in ("app.js", "charts.js", "plugins.js", "inbox.js", "app.css")
    ]
    for text in assets:
        text = text.replace('"http://www.w3.org/2000/svg"', "")  # the SVG namespace: a name, never fetched
        assert not re.search(r"(https?:)?//[A-Za-z0-9-]+\.[A-Za-z]", text), "no URL of another host"
    assert Path(CHROMIUM).exists()


@pytest.fixture(scope="module")
def blog_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the content database: a fresh database on the local PostgreSQL, migrated."""
    import asyncio
    import uuid

    import asyncpg

    from tenantedge.content.migrate import migrate

    name = f"te_dash_{uuid.uuid4().hex[:8]}"

    async def database(statement: str) -> None:
        connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def run(coroutine: Coroutine[object, object, object]) -> None:
        # Playwright's sync API keeps an event loop running in this thread: run database work in another.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, coroutine).result()

    run(database(f'CREATE DATABASE "{name}"'))
    run(migrate(f"postgresql://postgres@127.0.0.1:5432/{name}", ROOT / "migrations"))
    folder = tmp_path_factory.mktemp("dashboard-blog")
    copy_demo(folder)
    env = {
        "TENANTEDGE_ADMIN_TOKEN": TOKEN,
        "TENANTEDGE_RELOAD_INTERVAL": "0",
        "TENANTEDGE_DATABASE_URL": f"postgresql://tenantedge_app@127.0.0.1:5432/{name}",
    }
    server = Server("--tenants", str(folder / "tenants.json"), env=env)
    yield server
    server.stop()
    run(database(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_posts_are_written_and_published_from_the_dashboard(browser: Browser, blog_site: Server) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page, console = open_dashboard(context, blog_site)
    page.goto(f"http://admin.localhost:{blog_site.port}/#/t/codersinflow/posts")
    expect(page.locator("main")).to_contain_text("No posts yet")
    page.click("#new-post")
    page.fill("#post-slug", "hello-from-the-dashboard")
    page.fill("#post-title", "Hello from the dashboard")
    page.fill("#post-body", "Written in **the browser**.")
    page.select_option("#post-status", "published")
    page.click(".modal button:has-text('Save')")
    expect(page.locator("main table")).to_contain_text("Hello from the dashboard")
    shot(page, "07-posts")
    post = public(blog_site, "codersinflow.com", "/blog/hello-from-the-dashboard")
    assert post.status_code == 200 and "<strong>the browser</strong>" in post.text
    assert "Hello from the dashboard" in public(blog_site, "codersinflow.com", "/blog").text
    page.click("main table button:has-text('Hello from the dashboard')")
    page.fill("#post-title", "")
    page.click(".modal button:has-text('Save')")
    expect(page.locator(".modal .error")).to_contain_text("title")
    assert console.errors == [] or all("422" in error for error in console.errors)
    context.close()


def test_history_shows_what_changed_between_versions(browser: Browser, site: Server) -> None:
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    current = httpx.get(f"{site.url}/api/tenants/darkflows", headers=headers, timeout=10)
    changed = httpx.patch(
        f"{site.url}/api/tenants/darkflows",
        content=orjson.dumps({"description": "Changed for the history test"}),
        headers={**headers, "if-match": current.headers["etag"]},
        timeout=10,
    )
    assert changed.status_code == 200
    context = browser.new_context()
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/darkflows/history")
    page.locator("tbody tr").first.get_by_role("button", name="Changes").click()
    expect(page.locator(".modal .changes")).to_contain_text("/description")
    expect(page.locator(".modal .changes")).to_contain_text("Changed for the history test")
    assert console.errors == []
    context.close()


def test_what_the_server_refuses_is_shown_at_the_section_and_field(browser: Browser, site: Server) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/basicsite/page/")
    expect(page.locator("#sections li.section-item").first).to_be_visible()
    page.click("#palette button[data-type=Features]")
    page.click("#props button:has-text('Add Feature')")  # an item without its required title
    features = page.locator("#sections li[data-type=Features]")
    expect(features).to_have_class(re.compile("has-error"), timeout=10_000)
    expect(page.locator("#draft-status")).to_contain_text("fix the marked sections")
    expect(page.locator("#props")).to_contain_text("[3].title: required prop (string) is missing")
    shot(page, "08-builder-error")
    assert [error for error in console.errors if "(Unprocessable" not in error] == []
    context.close()
