"""The contact form with and without the services around it: no database, a trusted proxy, Redis shared by
workers, and copies by email through a real SMTP server (or an unreachable one, which loses nothing)."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import contact_form
import httpx
import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tenantedge.admin.responses import MERGE_PATCH
from tenantedge.clock import ManualClock
from tests.conftest import ROOT, running
from tests.database import Urls, fresh_database
from tests.plugins.contactform.conftest import SUBMIT, admin, build, form, headers, hidden_fields, visitor
from tests.services import PrivateRedis, free_port

pytestmark = pytest.mark.anyio


async def beta_form(client: httpx.AsyncClient, clock: ManualClock) -> dict[str, str]:
    page = await client.get("/contact", headers={"host": "beta.test"})
    clock.advance(5)
    return hidden_fields(page.text)


async def test_without_a_database_the_form_says_so_and_a_post_is_503(tmp_path: Path, clock: ManualClock) -> None:
    app = build(tmp_path, clock)
    async with running(app), visitor(app) as client:
        page = await client.get("/contact", headers={"host": "beta.test"})
        assert page.status_code == 200
        assert "This form cannot take messages at the moment" in page.text
        assert "<form" not in page.text
        answer = await client.post(SUBMIT, data={"name": "x"}, headers=headers("beta.test"))
        assert answer.status_code == 503 and answer.headers["retry-after"] == "3600"


async def test_behind_a_trusted_proxy_the_limit_counts_the_visitors_address(
    tmp_path: Path, urls: Urls, owner: asyncpg.Connection, clock: ManualClock
) -> None:
    app = build(tmp_path, clock, database_url=urls.app, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    async with running(app), visitor(app, "10.1.2.3") as proxy, visitor(app, "203.0.113.50") as direct:
        fields = await beta_form(proxy, clock)

        async def post(client: httpx.AsyncClient, forwarded: str) -> int:
            sent = {**headers("beta.test"), "x-forwarded-for": forwarded}
            return (await client.post(SUBMIT, data=form(fields), headers=sent)).status_code

        # Through the proxy: each visitor counts alone (a made-up first hop does not change whom it counts).
        assert [await post(proxy, f"1.1.1.{n}, 198.51.100.1") for n in range(4)] == [303, 303, 303, 429]
        assert await post(proxy, "198.51.100.2, 10.9.9.9") == 303
        # Straight from a visitor, a forwarded address is not believed.
        assert [await post(direct, f"198.51.100.{n + 10}") for n in range(4)] == [303, 303, 303, 429]
    hashes = await owner.fetch("SELECT DISTINCT client_hash FROM contact_form_messages")
    assert len(hashes) == 3


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = PrivateRedis()
    monkeypatch.setenv("TENANTEDGE_REDIS_URL", server.url)
    yield server.url
    server.stop()


async def test_with_redis_every_worker_shares_the_count(
    tmp_path: Path, urls: Urls, owner: asyncpg.Connection, clock: ManualClock, redis_url: str
) -> None:
    # Two apps are two workers: the in-process counts of either alone would let six through.
    for folder in ("one", "other"):
        (tmp_path / folder).mkdir()
    one = build(tmp_path / "one", clock, database_url=urls.app)
    other = build(tmp_path / "other", clock, database_url=urls.app)
    async with running(one), running(other), visitor(one) as first, visitor(other) as second:
        fields = await beta_form(first, clock)
        statuses = []
        for client in (first, second, first, second):
            statuses.append((await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))).status_code)
        assert statuses == [303, 303, 303, 429]
    kept = redis.Redis.from_url(redis_url)
    try:
        (found,) = kept.keys("*")
    finally:
        kept.close()
    key = found.decode() if isinstance(found, bytes) else str(found)
    # Under tenantedge's prefix, by tenant and the hash of the address: never the address itself.
    assert key.startswith("te:contact-form:rate:beta:") and "203.0.113" not in key


async def test_when_redis_is_down_the_count_is_kept_in_process(
    tmp_path: Path, urls: Urls, owner: asyncpg.Connection, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENANTEDGE_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    app = build(tmp_path, clock, database_url=urls.app)
    async with running(app), visitor(app) as client:
        fields = await beta_form(client, clock)
        statuses = [
            (await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))).status_code for _ in range(4)
        ]
        assert statuses == [303, 303, 303, 429]


class Mailbox:
    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


async def enable_copies(client: httpx.AsyncClient) -> None:
    body = b'{"plugins": {"contact-form": {"to": "office@beta.test", "rate_limit_per_hour": 3}}}'
    patched = await client.patch(
        "/api/tenants/beta", content=body, headers={**admin(), "content-type": MERGE_PATCH, "if-match": "*"}
    )
    assert patched.status_code == 200


async def test_a_copy_goes_out_by_smtp(
    tmp_path: Path,
    urls: Urls,
    owner: asyncpg.Connection,
    clock: ManualClock,
    mailbox: tuple[Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box, port = mailbox
    monkeypatch.setenv("TENANTEDGE_CONTACT_FORM_SMTP_URL", f"smtp://127.0.0.1:{port}?from=web@beta.test")
    app = build(tmp_path, clock, database_url=urls.app)
    async with running(app), visitor(app) as client:
        await enable_copies(client)
        fields = await beta_form(client, clock)
        sent = await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))
        assert sent.status_code == 303
        await contact_form.copies_sent()  # sent in a thread after the answer
    assert len(box.received) == 1
    envelope = box.received[0]
    assert envelope.mail_from == "web@beta.test" and envelope.rcpt_tos == ["office@beta.test"]
    assert isinstance(envelope.content, bytes)
    letter = envelope.content.decode()
    assert "Subject: [Contact form] Ada Lovelace" in letter and "Reply-To: ada@example.com" in letter
    assert "Hello there" in letter
    assert await owner.fetchval("SELECT count(*) FROM contact_form_messages") == 1


async def test_an_unreachable_smtp_server_loses_no_message(
    tmp_path: Path, urls: Urls, owner: asyncpg.Connection, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENANTEDGE_CONTACT_FORM_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    app = build(tmp_path, clock, database_url=urls.app)
    async with running(app), visitor(app) as client:
        await enable_copies(client)
        fields = await beta_form(client, clock)
        assert (await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))).status_code == 303
        await contact_form.copies_sent()
    assert await owner.fetchval("SELECT message FROM contact_form_messages") == "Hello there"


async def test_tenantedge_migrate_applies_the_plugins_table() -> None:
    async with fresh_database(plugins=False) as fresh:
        command = [str(Path(sys.executable).with_name("tenantedge")), "migrate", "--database-url", fresh.owner]
        done = await asyncio.to_thread(
            subprocess.run, command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "applied contact-form/0001_contact_form_messages.sql" in done.stdout
        owner = await asyncpg.connect(fresh.owner)
        try:
            forced = await owner.fetchval(
                "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'contact_form_messages'"
            )
        finally:
            await owner.close()
        assert forced is True


async def test_with_the_database_down_the_message_is_offered_again(tmp_path: Path, clock: ManualClock) -> None:
    down = f"postgresql://tenantedge_app@127.0.0.1:{free_port()}/test"
    app = build(tmp_path, clock, database_url=down, database_timeout=0.5)
    async with running(app), visitor(app) as client:
        fields = await beta_form(client, clock)
        assert fields, "the form is shown: a database is configured"
        answer = await client.post(SUBMIT, data=form(fields, message="Keep me"), headers=headers("beta.test"))
        assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
        assert "could not be stored just now" in answer.text and "Keep me</textarea>" in answer.text
        # The plugin is not resting: the form is still on the page.
        page = await client.get("/contact", headers={"host": "beta.test"})
        assert 'action="/_edge/plugins/contact-form/submit"' in page.text


async def test_with_the_database_down_the_inbox_answers_503(tmp_path: Path, clock: ManualClock) -> None:
    down = f"postgresql://tenantedge_app@127.0.0.1:{free_port()}/test"
    app = build(tmp_path, clock, database_url=down, database_timeout=0.5)
    async with running(app), visitor(app) as client:
        answer = await client.get("/api/plugins/contact-form/tenants/beta/messages", headers=admin())
        assert answer.status_code == 503 and "did not answer" in answer.text
