"""Which hosts a tenant may claim through the admin, and how big a tenant may be: a scoped token takes over
no other tenant's hosts, nor hosts no tenant should have, and one large document stalls nobody else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tenantedge.http.edge import EdgeApp
from tests.admin.conftest import FULL_TOKEN, NO_SITE, SCOPED_TOKEN, AdminClient, Workdir, connect, problem, title_of

pytestmark = pytest.mark.anyio

BASIC = "/api/tenants/basicsite"
OWN = ["basicsite.com", "basicsite.localhost"]
BAKERY = "Basic Bakery"


async def assert_not_basicsite(client: AdminClient, host: str) -> None:
    response = await client.site(host)
    assert response.status_code in (400, 404) or BAKERY not in title_of(response), f"basicsite answers {host}"


# (id, host, a host it would have served, what the refusal says)
TAKEOVERS = [
    ("under-another-wildcard", "hijack.darkflows.com", "hijack.darkflows.com", "darkflows"),
    ("wildcard-under-another-wildcard", "*.x.darkflows.com", "a.x.darkflows.com", "darkflows"),
    ("the-same-wildcard", "*.darkflows.com", "a.darkflows.com", "darkflows"),
    ("wildcard-over-another-domain", "*.codersinflow.com", "www.codersinflow.com", "codersinflow"),
    ("wildcard-over-a-tld", "*.com", "anything.com", "public suffix"),
    ("wildcard-over-a-public-suffix", "*.co.uk", "bakery.co.uk", "public suffix"),
    ("wildcard-over-a-private-suffix", "*.github.io", "someone.github.io", "public suffix"),
    ("a-tld", "com", "com", "public suffix"),
    ("every-localhost-name", "*.localhost", "admin.localhost", "public suffix"),
    ("localhost", "localhost", "localhost", "this machine"),
    ("under-the-admin-host", "x.admin.localhost", "x.admin.localhost", "admin host"),
    ("ipv4", "127.0.0.1", "127.0.0.1", "IP address"),
    ("private-ipv4", "10.1.2.3", "10.1.2.3", "IP address"),
    ("bracketed-ipv6", "[::1]", "[::1]", "IP address"),
    ("bare-ipv6", "::1", "[::1]", "IP address"),
    ("ipv4-as-one-number", "2130706433", "2130706433", "IP address"),
    ("ipv4-in-hex", "0x7f.0.0.1", "0x7f.0.0.1", "IP address"),
]


@pytest.mark.parametrize(
    ("field", "host", "probe", "expected"),
    [
        pytest.param(field, host, probe, expected, id=f"{field}-{name}")
        for field in ("domains", "aliases")
        for name, host, probe, expected in TAKEOVERS
        if field == "domains" or not host.startswith("*.")  # aliases are never wildcards
    ],
)
async def test_a_scoped_token_cannot_take_over_a_host(
    client: AdminClient, workdir: Workdir, field: str, host: str, probe: str, expected: str
) -> None:
    before = workdir.tenants_bytes()
    change = {"domains": [*OWN, host]} if field == "domains" else {"aliases": [host]}
    body = problem(await client.patch(BASIC, change, if_match='"1"', token=SCOPED_TOKEN), 422)
    index = 2 if field == "domains" else 0
    paths = [issue["path"] for issue in body["issues"]]
    assert paths == [f"{field}[{index}]"], body["issues"]
    if expected in ("darkflows", "codersinflow"):
        assert "another tenant" in body["issues"][0]["message"], body
        assert f"tenant {expected!r}" not in str(body) and f"tenants.{expected}" not in str(body), body
    else:
        assert expected in body["issues"][0]["message"], body
    assert workdir.tenants_bytes() == before
    await assert_not_basicsite(client, probe)


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("shop.basicsite.com", id="own-subdomain"),
        pytest.param("*.basicsite.com", id="own-wildcard"),
        pytest.param("basicsite.co.uk", id="under-a-public-suffix"),
        pytest.param("*.basicsite.github.io", id="wildcard-below-a-private-suffix"),
        pytest.param("darkflows.net", id="a-name-like-another-tenants"),
        pytest.param("preview.basicsite.localhost", id="a-local-development-name"),
    ],
)
async def test_a_scoped_token_may_claim_free_hosts(client: AdminClient, host: str) -> None:
    response = await client.patch(BASIC, {"domains": [*OWN, host]}, if_match='"1"', token=SCOPED_TOKEN)
    assert response.status_code == 200, response.text
    probe = host.replace("*", "www")
    assert title_of(await client.site(probe)) == BAKERY


async def test_a_new_tenant_cannot_cover_an_existing_one(client: AdminClient, workdir: Workdir) -> None:
    before = workdir.tenants_bytes()
    document = {"id": "cover", "domains": ["cover.example", "*.codersinflow.com"]}
    body = problem(await client.api("POST", "/api/tenants", document), 422)
    assert [issue["path"] for issue in body["issues"]] == ["domains[1]"]
    assert "codersinflow" in body["issues"][0]["message"], "an administrator is told who holds it"
    assert workdir.tenants_bytes() == before


@pytest.mark.parametrize(
    ("host", "told"),
    [
        pytest.param("hijack.darkflows.com", "is taken by another tenant", id="taken"),
        pytest.param("*.codersinflow.com", "covers a host another tenant holds", id="covers"),
        pytest.param("*.com", "is too broad: 'com' is a public suffix", id="too-broad"),
    ],
)
async def test_the_check_refuses_what_a_write_refuses(client: AdminClient, host: str, told: str) -> None:
    document = {"domains": [*OWN, host]}
    response = await client.api("POST", f"{BASIC}/check", document, token=SCOPED_TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert [issue["path"] for issue in body["issues"]] == ["domains[2]"]
    assert told in body["issues"][0]["message"]
    written = await client.patch(BASIC, document, if_match='"1"', token=SCOPED_TOKEN)
    assert problem(written, 422)["issues"] == body["issues"]


async def test_a_configured_admin_host_is_nobodys(make_app: Callable[..., EdgeApp]) -> None:
    admin = "edit.basicsite.com"
    async with connect(make_app(admin_host=admin)) as client:
        for host in (admin, "deep.edit.basicsite.com", "*.basicsite.com"):
            change = {"domains": [*OWN, host]}
            response = await client.api("PATCH", BASIC, change, token=SCOPED_TOKEN, if_match='"1"', host=admin)
            body = problem(response, 422)
            assert [issue["path"] for issue in body["issues"]] == ["domains[2]"], body
            assert "admin host" in body["issues"][0]["message"]


# -- limits -------------------------------------------------------------------------------------------


def many_hosts(count: int, start: int = 0, under: str = "basicsite.com") -> list[str]:
    return [f"h{number}.{under}" for number in range(start, start + count)]


@pytest.mark.parametrize(
    ("domains", "aliases", "status", "path"),
    [
        pytest.param(1000, 0, 200, None, id="domains-at-the-cap"),
        pytest.param(600, 400, 200, None, id="both-at-the-cap"),
        pytest.param(1001, 0, 422, "domains", id="domains-over"),
        pytest.param(600, 401, 422, "aliases", id="both-over"),
    ],
)
async def test_domains_and_aliases_are_capped(
    client: AdminClient, workdir: Workdir, domains: int, aliases: int, status: int, path: str | None
) -> None:
    before = workdir.tenants_bytes()
    change = {"domains": many_hosts(domains), "aliases": many_hosts(aliases, start=domains)}
    response = await client.patch(BASIC, change, if_match='"1"', token=SCOPED_TOKEN)
    if status == 200:
        assert response.status_code == 200, response.text[:500]
        assert title_of(await client.site(f"h{domains - 1}.basicsite.com")) == BAKERY
        return
    body = problem(response, 422)
    assert body["issues"] == [
        {
            "path": path,
            "message": f"expected at most 1000 domains and aliases (TENANTEDGE_MAX_DOMAINS), found {domains + aliases}",
        }
    ]
    assert workdir.tenants_bytes() == before


async def test_the_cap_is_a_setting(make_app: Callable[..., EdgeApp]) -> None:
    async with connect(make_app(max_domains=4)) as client:  # the demo's largest tenant has 4
        body = problem(await client.patch(BASIC, {"domains": many_hosts(5)}, if_match='"1"'), 422)
        assert body["issues"][0]["path"] == "domains" and "at most 4" in body["issues"][0]["message"]


async def test_sixty_thousand_domains_are_refused_by_count(client: AdminClient) -> None:
    document = {"domains": many_hosts(60_000, under="b.io")}  # about 890 KB, as in the report
    response = await client.api("POST", f"{BASIC}/check", document, token=SCOPED_TOKEN)
    assert response.status_code == 200
    assert response.json()["issues"] == [
        {
            "path": "domains",
            "message": "expected at most 1000 domains and aliases (TENANTEDGE_MAX_DOMAINS), found 60000",
        }
    ]


def big_pages(count: int) -> dict[str, Any]:
    text = "Crumb and crust. " * 2900  # about 49 KB, under RichText's 50,000 characters
    pages: dict[str, Any] = {"/": [{"type": "Hero", "props": {"title": "Big"}}]}
    # Each page's text differs: sections with equal props are validated once.
    pages.update({f"/p{n}": [{"type": "RichText", "props": {"body": f"{n}. {text}"}}] for n in range(count)})
    return pages


def many_sections(count: int) -> dict[str, Any]:
    """`count` pages of 100 sections, each with its own props (all of them validated: none is shared)."""

    def section(page: int, number: int) -> dict[str, Any]:
        items = [{"title": f"{number}-{item}", "text": "y" * 40} for item in range(6)]
        return {"type": "Features", "props": {"title": f"{page}-{number}", "items": items}}

    pages = {f"/p{page}": [section(page, number) for number in range(100)] for page in range(1, count)}
    return {"/": [section(0, number) for number in range(100)], **pages}


@pytest.mark.parametrize("method", ["PUT", "POST"])
async def test_a_document_over_the_size_limit_is_413(
    make_app: Callable[..., EdgeApp], workdir: Workdir, method: str
) -> None:
    before = workdir.tenants_bytes()
    document = {"name": "Big", "domains": ["big.example"], "pages": big_pages(30)}  # about 1.5 MB
    async with connect(make_app(admin_max_body=4 << 20)) as client:
        if method == "PUT":
            response = await client.api("PUT", BASIC, document, if_match='"1"')
        else:
            response = await client.api("POST", "/api/tenants", {"id": "big", **document})
        body = problem(response, 413)
        assert "1048576" in body["detail"] and "TENANTEDGE_MAX_TENANT_BYTES" in body["detail"]
        assert workdir.tenants_bytes() == before


async def test_a_page_that_grows_the_document_over_the_limit_is_413(
    make_app: Callable[..., EdgeApp], workdir: Workdir
) -> None:
    async with connect(make_app(max_tenant_bytes=64 << 10)) as client:
        page = big_pages(2)["/p0"]
        assert (await client.api("PUT", f"{BASIC}/pages/one", page, if_match='"1"')).status_code == 200
        before = workdir.tenants_bytes()
        problem(await client.api("PUT", f"{BASIC}/pages/two", page, if_match='"2"'), 413)
        assert workdir.tenants_bytes() == before


async def test_other_sites_answer_while_a_big_document_is_checked(make_app: Callable[..., EdgeApp]) -> None:
    """Validation runs in a worker thread: the event loop keeps serving every other tenant meanwhile."""
    document = {"domains": many_hosts(1000), "pages": many_sections(19)}  # within both defaults: about 0.9 MB
    async with connect(make_app()) as client:
        assert (await client.site("codersinflow.com")).status_code == 200  # rendered once, then cached
        check = asyncio.create_task(client.api("POST", f"{BASIC}/check", document, token=FULL_TOKEN))
        answered = 0
        while not check.done():
            response = await client.site("codersinflow.com")
            assert response.status_code == 200
            answered += 1
            await asyncio.sleep(0)  # a cached page is answered without suspending: let the check go on
        result = await check
        assert result.status_code == 200 and result.json()["valid"] is True, result.text[:300]
        # On the event loop, a check lets through only the one or two requests that fit between its awaits; in a
        # thread, many more (how many depends on the machine's load: CI once saw 8).
        assert answered >= 5, f"only {answered} requests were answered while the check ran"


async def test_a_hijacked_host_is_not_served_after_a_refusal(client: AdminClient) -> None:
    problem(await client.patch(BASIC, {"aliases": ["127.0.0.1"]}, if_match='"1"'), 422)
    response = await client.site("127.0.0.1")
    assert response.status_code == 404 and title_of(response) == NO_SITE
