"""A visitor writes to clientsite in Chromium on a real `tenantedge serve` with a database: types the message with
a person's pauses, sends it, lands back on the page with the thank-you note, and the message is in the inbox."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import contact_form
import httpx
import pytest
from playwright.sync_api import sync_playwright

from tenantedge.content.migrate import migrate
from tests.database import MIGRATIONS, Urls, create_database, drop_database
from tests.server import Server

CHROMIUM = "/usr/bin/chromium"
TOKEN = "contact-form-browser-test-token"


async def migrated() -> Urls:
    urls = await create_database()
    await migrate(urls.owner, MIGRATIONS, plugins={"contact-form": contact_form.manifest.migrations})
    return urls


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Server, Urls]]:
    urls = asyncio.run(migrated())
    server = Server(env={"TENANTEDGE_DATABASE_URL": urls.app, "TENANTEDGE_ADMIN_TOKEN": TOKEN})
    yield server, urls
    server.stop()
    asyncio.run(drop_database(urls))


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_a_visitor_sends_a_message_from_clientsite(served: tuple[Server, Urls], width: int) -> None:
    server, urls = served
    rules = f"MAP clientsite.localhost 127.0.0.1:{server.port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[f"--host-resolver-rules={rules}"]
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"http://clientsite.localhost:{server.port}/")
            form = page.locator("form.contact-form__form")
            assert form.is_visible() and not page.locator(".contact-form__sent").is_visible()
            trap = page.locator(".contact-form__trap").bounding_box()  # the honeypot: off the page, for bots only
            assert trap is not None and trap["x"] + trap["width"] <= 0
            # Typed as a person types: the pauses add up past the form's minimum time.
            form.get_by_label("Name").press_sequentially("Grace Hopper", delay=60)
            form.get_by_label("Email").press_sequentially("grace@example.com", delay=60)
            form.get_by_label("Message").press_sequentially(f"Hello from {width} pixels", delay=60)
            form.get_by_role("button", name="Send message").click()
            page.wait_for_url("**/#s3-sent")
            assert page.locator(".contact-form__sent").is_visible() and not form.is_visible()
        finally:
            browser.close()
    inbox = httpx.get(
        f"{server.url}/api/plugins/contact-form/tenants/clientsite/messages",
        headers={"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert f"Hello from {width} pixels" in [message["message"] for message in inbox.json()["messages"]]

    async def stored() -> int:
        owner = await asyncpg.connect(urls.owner)
        try:
            found: int = await owner.fetchval(
                "SELECT count(*) FROM contact_form_messages WHERE tenant_id = 'clientsite'"
            )
            return found
        finally:
            await owner.close()

    assert asyncio.run(stored()) >= 1
