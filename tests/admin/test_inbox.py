"""The contact form's inbox in the dashboard, in Chromium on a real `tenantedge serve` with PostgreSQL: two messages
sent through clientsite's public form are listed newest first, one is read and deleted after a confirm; a token
scoped to another tenant gets no inbox tab; a server without a database, or with it down, says why the
messages can't be read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from contact_form.tokens import MIN_AGE
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.admin.test_dashboard import Console, browser, playwright, shot  # noqa: F401 - fixtures
from tests.database import Urls, drop_database
from tests.plugins.contactform.conftest import SUBMIT, form, hidden_fields
from tests.plugins.contactform.test_browser import migrated
from tests.server import Server, copy_demo, free_port

TOKEN = "inbox-test-admin-token-of-some-length"
SCOPED = "inbox-test-basicsite-editor-token"
TENANT = "clientsite"
INBOX_TAB = "inbox-contact-form"


def serve(folder: Path, database_url: str | None, **extra: str) -> Server:
    copy_demo(folder)
    tokens = {"tokens": [{"name": "basicsite-editor", "token": SCOPED, "tenants": ["basicsite"]}]}
    (folder / "tokens.json").write_bytes(orjson.dumps(tokens))
    env = {
        "TENANTEDGE_ADMIN_TOKEN": TOKEN,
        "TENANTEDGE_ADMIN_TOKENS_FILE": str(folder / "tokens.json"),
        "TENANTEDGE_RELOAD_INTERVAL": "0",
    }
    if database_url is not None:
        env["TENANTEDGE_DATABASE_URL"] = database_url
    env.update(extra)
    return Server("--tenants", str(folder / "tenants.json"), env=env)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Urls]]:
    urls = asyncio.run(migrated())
    server = serve(tmp_path_factory.mktemp("inbox"), urls.app)
    yield server, urls
    server.stop()
    asyncio.run(drop_database(urls))


@pytest.fixture(scope="module")
def served(database: tuple[Server, Urls]) -> Server:
    return database[0]


def stored(urls: Urls, sql: str, *args: object) -> None:
    """Runs `sql` as the database's owner, in clientsite's rows."""

    async def run() -> None:
        owner = await asyncpg.connect(urls.owner)
        try:
            async with owner.transaction():
                await owner.execute("SELECT set_config('app.tenant_id', $1, true)", TENANT)
                await owner.execute(sql, *args)
        finally:
            await owner.close()

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, run()).result()


def sign_in(context: BrowserContext, server: Server, token: str) -> tuple[Page, Console]:
    """Signs in as a person does: the token typed with pauses."""
    page = context.new_page()
    console = Console(page)
    page.goto(f"http://admin.localhost:{server.port}/")
    page.locator("#token").press_sequentially(token, delay=80)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_contain_text("signed in as")
    return page, console


def form_fields(server: Server) -> tuple[dict[str, str], float]:
    """The hidden fields of clientsite's contact form, and when the page was fetched."""
    answer = server.get(f"{TENANT}.localhost")
    assert answer.status_code == 200, answer.text[:300]
    return hidden_fields(answer.text), time.monotonic()


def send(server: Server, fields: dict[str, str], **values: str) -> None:
    answer = httpx.post(
        server.url + SUBMIT,
        data=form(fields, **values),
        headers={"host": f"{TENANT}.localhost", "origin": f"http://{TENANT}.localhost:{server.port}"},
        timeout=10,
    )
    assert answer.status_code == 303, answer.text[:500]


def test_the_inbox_lists_reads_and_deletes_the_messages_sent_through_the_form(
    served: Server,  # started before the browser: its database is made with asyncio.run, outside Playwright's loop
    browser: Browser,  # noqa: F811
) -> None:
    fields, fetched = form_fields(served)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page, console = sign_in(context, served, TOKEN)
    # Signing in took the operator longer than the form's minimum time; the visitors wrote meanwhile.
    assert time.monotonic() - fetched > MIN_AGE + 1
    send(served, fields, name="Ada Lovelace", email="ada@example.com", message="First things first\nA second line")
    send(
        served,
        fields,
        name="Grace <b>Hopper</b>",
        email="grace@example.com",
        message="<script>alert(1)</script> is text here\n\nAnd so is <img src=x onerror=alert(2)>.",
    )

    page.locator(f'a[href="#/t/{TENANT}"]').click()
    tab = page.get_by_role("tab", name="Inbox")
    expect(tab).to_be_visible()
    tab.click()
    rows = page.locator(".inbox tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(".inbox h2")).to_have_text("2 messages")
    # Newest first: Grace wrote last. Her name and message are shown as she typed them, not as markup.
    expect(rows.nth(0)).to_contain_text("Grace <b>Hopper</b>")
    expect(rows.nth(0).locator(".first-line")).to_have_text("<script>alert(1)</script> is text here")
    expect(rows.nth(1)).to_contain_text("Ada Lovelace")
    expect(rows.nth(1)).to_contain_text("ada@example.com")
    expect(rows.nth(1).locator(".first-line")).to_have_text("First things first")
    received = rows.nth(1).locator("time")
    assert (received.get_attribute("title") or "").endswith(" UTC")
    assert page.locator(".inbox b, .inbox script, .inbox img").count() == 0
    shot(page, "60-inbox-list")

    rows.nth(0).get_by_role("button", name="Grace <b>Hopper</b>").click()
    message = page.locator("article.message")
    expect(message.locator(".message-text")).to_have_text(
        "<script>alert(1)</script> is text here\n\nAnd so is <img src=x onerror=alert(2)>."
    )
    assert message.locator("script, img, b").count() == 0
    shot(page, "61-inbox-message")

    # Delete asks first; Cancel keeps the message.
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the message from Grace <b>Hopper</b>?")
    shot(page, "62-inbox-confirm-delete")
    dialog.get_by_role("button", name="Cancel").click()
    expect(message).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(1)
    expect(page.locator(".inbox h2")).to_have_text("1 message")
    expect(rows.nth(0)).to_contain_text("Ada Lovelace")
    shot(page, "63-inbox-after-delete")

    # Ada's message opens in full, every line of it, and the way back is the list.
    rows.nth(0).get_by_role("button", name="Ada Lovelace").click()
    expect(page.locator("article.message .message-text")).to_have_text("First things first\nA second line")
    page.get_by_role("button", name="← All messages").click()
    expect(rows).to_have_count(1)

    # A tenant that does not enable contact-form has no inbox tab.
    page.goto(f"http://admin.localhost:{served.port}/#/t/basicsite/settings")
    expect(page.get_by_role("tab", name="Settings")).to_be_visible()
    expect(page.get_by_role("tab", name="Inbox")).to_have_count(0)
    assert console.errors == []
    context.close()


def test_a_token_for_another_tenant_sees_no_inbox_of_this_one(
    served: Server,
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context()
    page, console = sign_in(context, served, SCOPED)
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.goto(f"http://admin.localhost:{served.port}/#/t/{TENANT}/{INBOX_TAB}")
    expect(page.locator("main")).to_contain_text(f"no tenant '{TENANT}'")
    expect(page.get_by_role("tab", name="Inbox")).to_have_count(0)
    shot(page, "64-inbox-other-tenants-token")
    # The browser logs the refused tenant's 404 itself; nothing else may appear.
    assert [error for error in console.errors if "404" not in error] == []
    context.close()


@pytest.mark.parametrize(
    ("database_url", "reason"),
    [
        (None, "no database is configured"),
        (f"postgresql://tenantedge_app@127.0.0.1:{free_port()}/down", "the database did not answer"),
    ],
    ids=["no-database", "database-down"],
)
def test_when_the_server_answers_503_the_inbox_says_why_it_cannot_be_read(
    browser: Browser,  # noqa: F811
    tmp_path: Path,
    database_url: str | None,
    reason: str,
) -> None:
    server = serve(tmp_path, database_url, TENANTEDGE_DATABASE_TIMEOUT="0.5")
    try:
        context = browser.new_context()
        page, console = sign_in(context, server, TOKEN)
        page.goto(f"http://admin.localhost:{server.port}/#/t/{TENANT}/{INBOX_TAB}")
        unavailable = page.locator(".inbox-unavailable")
        expect(unavailable).to_contain_text("Messages can't be read now")
        expect(unavailable).to_contain_text(reason)
        shot(page, "65-inbox-no-database" if database_url is None else "68-inbox-database-down")
        # The browser logs the 503 itself; nothing else may appear.
        assert [error for error in console.errors if "503" not in error] == []
        context.close()
    finally:
        server.stop()


def test_the_inbox_pages_older_and_newer_and_says_when_it_is_empty(
    database: tuple[Server, Urls],
    browser: Browser,  # noqa: F811
) -> None:
    server, urls = database
    # More messages than a page holds, a minute apart: the form's rate limit would refuse as many from one address.
    stored(urls, "DELETE FROM contact_form_messages")
    stored(
        urls,
        "INSERT INTO contact_form_messages (tenant_id, created_at, name, email, message)"
        " SELECT $1, timestamptz '2026-11-30 12:00Z' + n * interval '1 minute', 'Sender ' || n,"
        " 'sender' || n || '@example.com', 'Message number ' || n FROM generate_series(1, 23) AS n",
        TENANT,
    )
    # An operator in Auckland (UTC+13 in summer) sees Auckland's time, and UTC in the title.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Pacific/Auckland", locale="en-GB"
    )
    page, console = sign_in(context, server, TOKEN)
    page.goto(f"http://admin.localhost:{server.port}/#/t/{TENANT}/{INBOX_TAB}")
    rows = page.locator(".inbox tbody tr")
    expect(rows).to_have_count(20)
    expect(page.locator(".inbox h2")).to_have_text("23 messages")
    expect(rows.nth(0)).to_contain_text("Sender 23")
    expect(rows.nth(19)).to_contain_text("Sender 4")
    expect(rows.nth(0).locator("time")).to_have_text("01/12/2026, 01:23:00")
    expect(rows.nth(0).locator("time")).to_have_attribute("title", "2026-11-30 12:23 UTC")
    expect(page.get_by_role("button", name="Newer")).to_be_disabled()
    page.get_by_role("button", name="Older").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Sender 3")
    expect(page.locator(".pager")).to_contain_text("page 2 of 2")
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    shot(page, "66-inbox-older")
    page.get_by_role("button", name="Newer").click()
    expect(rows.nth(0)).to_contain_text("Sender 23")

    stored(urls, "DELETE FROM contact_form_messages")
    page.reload()
    expect(page.locator(".inbox .empty")).to_have_text(
        "No messages yet: what visitors send through the contact form appears here."
    )
    expect(page.locator(".inbox h2")).to_have_text("0 messages")
    shot(page, "67-inbox-empty")
    assert console.errors == []
    context.close()
