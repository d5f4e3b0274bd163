"""The public form end to end: enabled through the admin API, the page fetched, the form posted over HTTP, the
message in that tenant's inbox alone; and every kind of spam or forgery refused."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import orjson
import pytest

from tenantedge.admin.responses import MERGE_PATCH
from tenantedge.clock import ManualClock
from tests.plugins.contactform.conftest import (
    BETA_TOKEN,
    SECTION,
    SUBMIT,
    admin,
    form,
    headers,
    hidden_fields,
)

pytestmark = pytest.mark.anyio


async def enable_for_alpha(client: httpx.AsyncClient) -> None:
    patch = {"plugins": {"contact-form": {"to": "office@alpha.test"}}, "pages": {"/": [{"type": "Hero"}, SECTION]}}
    answer = await client.patch(
        "/api/tenants/alpha",
        content=orjson.dumps(patch),
        headers={**admin(), "content-type": MERGE_PATCH, "if-match": "*"},
    )
    assert answer.status_code == 200, answer.text


async def fields_of(client: httpx.AsyncClient, host: str, path: str = "/") -> dict[str, str]:
    page = await client.get(path, headers={"host": host})
    assert page.status_code == 200
    assert 'action="/_edge/plugins/contact-form/submit"' in page.text
    assert 'href="/_edge/plugins/contact-form/assets/contact-form.css"' in page.text
    return hidden_fields(page.text)


async def test_a_message_lands_in_its_tenants_inbox_alone(client: httpx.AsyncClient, clock: ManualClock) -> None:
    await enable_for_alpha(client)
    fields = await fields_of(client, "alpha.test")
    assert fields["page"] == "/" and fields["section"] == "s1"
    clock.advance(5)  # a person takes a few seconds to write
    sent = await client.post(SUBMIT, data=form(fields), headers=headers("alpha.test"))
    assert sent.status_code == 303
    assert sent.headers["location"] == "/#s1-sent"

    inbox = await client.get("/api/plugins/contact-form/tenants/alpha/messages", headers=admin())
    assert inbox.status_code == 200
    listed = inbox.json()
    assert (listed["total"], listed["page"], listed["per_page"]) == (1, 1, 20)
    message = listed["messages"][0]
    assert (message["name"], message["email"], message["message"]) == ("Ada Lovelace", "ada@example.com", "Hello there")
    assert len(message["client_hash"]) == 32 and "203.0.113" not in orjson.dumps(message).decode()
    one = await client.get(f"/api/plugins/contact-form/tenants/alpha/messages/{message['id']}", headers=admin())
    assert one.json() == message

    # Another tenant's inbox is empty (row-level security), and its editor cannot reach alpha's.
    other = await client.get("/api/plugins/contact-form/tenants/beta/messages", headers=admin(BETA_TOKEN))
    assert other.json()["total"] == 0
    refused = await client.get("/api/plugins/contact-form/tenants/alpha/messages", headers=admin(BETA_TOKEN))
    assert refused.status_code == 404
    by_id = await client.get(f"/api/plugins/contact-form/tenants/beta/messages/{message['id']}", headers=admin())
    assert by_id.status_code == 404
    not_deleted = await client.delete(
        f"/api/plugins/contact-form/tenants/beta/messages/{message['id']}", headers=admin(BETA_TOKEN)
    )
    assert not_deleted.status_code == 404

    deleted = await client.delete(f"/api/plugins/contact-form/tenants/alpha/messages/{message['id']}", headers=admin())
    assert deleted.status_code == 204
    assert (await client.get("/api/plugins/contact-form/tenants/alpha/messages", headers=admin())).json()["total"] == 0


async def test_the_inbox_pages_newest_first(client: httpx.AsyncClient, clock: ManualClock) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    for number in range(3):
        sent = await client.post(SUBMIT, data=form(fields, message=f"number {number}"), headers=headers("beta.test"))
        assert sent.status_code == 303
    base = "/api/plugins/contact-form/tenants/beta/messages"
    first = (await client.get(f"{base}?per_page=2", headers=admin(BETA_TOKEN))).json()
    second = (await client.get(f"{base}?per_page=2&page=2", headers=admin(BETA_TOKEN))).json()
    assert [m["message"] for m in first["messages"] + second["messages"]] == ["number 2", "number 1", "number 0"]
    assert first["total"] == 3
    bad = await client.get(f"{base}?per_page=1000", headers=admin(BETA_TOKEN))
    assert bad.status_code == 422 and "per_page" in bad.text


async def test_the_honeypot_pretends_and_keeps_nothing(client: httpx.AsyncClient, clock: ManualClock) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    sent = await client.post(SUBMIT, data=form(fields, website="https://spam.example"), headers=headers("beta.test"))
    assert sent.status_code == 303 and sent.headers["location"] == "/contact#s0-sent"
    assert (await inbox_total(client)) == 0


async def inbox_total(client: httpx.AsyncClient) -> int:
    answer = await client.get("/api/plugins/contact-form/tenants/beta/messages", headers=admin())
    total: int = answer.json()["total"]
    return total


async def test_too_fast_is_asked_again_with_a_new_token(client: httpx.AsyncClient, clock: ManualClock) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(1)
    quick = await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))
    assert quick.status_code == 422 and "That was quick" in quick.text
    assert (await inbox_total(client)) == 0
    again = hidden_fields(quick.text)
    assert again["token"] != fields["token"] and 'value="Ada Lovelace"' in quick.text
    clock.advance(3)
    assert (await client.post(SUBMIT, data=form(again), headers=headers("beta.test"))).status_code == 303
    assert (await inbox_total(client)) == 1


async def test_a_page_older_than_the_token_window_is_asked_again(client: httpx.AsyncClient, clock: ManualClock) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(31 * 86_400)
    old = await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))
    assert old.status_code == 422 and "The page you wrote on is old" in old.text
    clock.advance(3)
    again = await client.post(SUBMIT, data=form(hidden_fields(old.text)), headers=headers("beta.test"))
    assert again.status_code == 303


@pytest.mark.parametrize(
    "token",
    ["", "nonsense", "1800000000.00000000000000000000000000000000", "1799999000.0123456789abcdef0123456789abcdef"],
    ids=["missing", "malformed", "forged-now", "forged-earlier"],
)
async def test_a_bad_token_is_refused(client: httpx.AsyncClient, clock: ManualClock, token: str) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    answer = await client.post(SUBMIT, data=form(fields, token=token), headers=headers("beta.test"))
    assert answer.status_code == 422 and "not sent from this site" in answer.text
    assert (await inbox_total(client)) == 0


async def test_another_tenants_token_is_refused(client: httpx.AsyncClient, clock: ManualClock) -> None:
    await enable_for_alpha(client)
    alpha = await fields_of(client, "alpha.test")
    beta = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    answer = await client.post(SUBMIT, data=form(beta, token=alpha["token"]), headers=headers("beta.test"))
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("origin", "referer", "status"),
    [
        ("https://evil.example", None, 403),
        ("https://beta.test.evil.example", None, 403),
        ("https://alpha.test", None, 403),
        ("null", "https://evil.example/form", 403),
        ("", "", 403),
        ("null", "https://beta.test/contact", 303),
        ("http://beta.test:8000", None, 303),
    ],
    ids=["other-site", "suffix-trick", "other-tenant", "null-origin-bad-referer", "neither", "referer", "own-port"],
)
async def test_only_the_sites_own_pages_may_post(
    client: httpx.AsyncClient, clock: ManualClock, origin: str, referer: str | None, status: int
) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    sent_headers = {"host": "beta.test", "origin": origin, **({"referer": referer} if referer is not None else {})}
    answer = await client.post(SUBMIT, data=form(fields), headers=sent_headers)
    assert answer.status_code == status


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": ""}, "Name"),
        ({"name": "x" * 201}, "Name"),
        ({"name": "Ada\r\nBcc: victim@example.com"}, "Name"),
        ({"email": "not-an-address"}, "Email"),
        ({"email": "a@b.c\nBcc: x@y.z"}, "Email"),
        ({"message": ""}, "Message"),
        ({"message": "x" * 5001}, "Message"),
        ({"token": "1" * 300}, "token"),
    ],
    ids=["no-name", "long-name", "header-injection", "bad-email", "email-injection", "no-message", "long", "token"],
)
async def test_a_field_out_of_bounds_is_named_with_a_link_back(
    client: httpx.AsyncClient, clock: ManualClock, values: dict[str, str], field: str
) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    answer = await client.post(SUBMIT, data=form(fields, **values), headers=headers("beta.test"))
    assert answer.status_code == 422
    assert f"<strong>{field}</strong>" in answer.text and 'href="/contact#s0"' in answer.text
    assert (await inbox_total(client)) == 0


async def test_a_body_over_the_plugin_limit_is_413(client: httpx.AsyncClient) -> None:
    answer = await client.post(SUBMIT, data={"message": "x" * 70_000}, headers=headers("beta.test"))
    assert answer.status_code == 413


async def test_the_rate_limit_answers_429_with_retry_after(client: httpx.AsyncClient, clock: ManualClock) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    for _ in range(3):  # beta allows 3 an hour
        assert (await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))).status_code == 303
    refused = await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert (await inbox_total(client)) == 3
    clock.advance(3600)  # the next hour
    assert (await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))).status_code == 303


async def test_a_tenant_without_the_plugin(client: httpx.AsyncClient) -> None:
    answer = await client.post(SUBMIT, data={"name": "x"}, headers=headers("plain.test"))
    assert answer.status_code == 404
    patch = {"pages": {"/": [SECTION]}}
    refused = await client.patch(
        "/api/tenants/plain",
        content=orjson.dumps(patch),
        headers={**admin(), "content-type": MERGE_PATCH, "if-match": "*"},
    )
    assert refused.status_code == 422
    assert refused.json()["issues"][0]["path"] == 'pages["/"][0].type'


async def test_a_deleted_tenants_messages_go_with_it(
    client: httpx.AsyncClient, clock: ManualClock, owner: asyncpg.Connection
) -> None:
    fields = await fields_of(client, "beta.test", "/contact")
    clock.advance(5)
    assert (await client.post(SUBMIT, data=form(fields), headers=headers("beta.test"))).status_code == 303
    await enable_for_alpha(client)
    alpha = await fields_of(client, "alpha.test")
    clock.advance(5)
    assert (await client.post(SUBMIT, data=form(alpha), headers=headers("alpha.test"))).status_code == 303
    deleted = await client.delete("/api/tenants/beta", headers={**admin(), "if-match": "*"})
    assert deleted.status_code in (200, 204), deleted.text
    for _ in range(200):  # the plugin hears of it in the background
        if await owner.fetchval("SELECT count(*) FROM contact_form_messages WHERE tenant_id = 'beta'") == 0:
            break
        await asyncio.sleep(0.01)
    rows = await owner.fetch("SELECT tenant_id FROM contact_form_messages")
    assert [row["tenant_id"] for row in rows] == ["alpha"]
