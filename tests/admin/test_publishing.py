"""Nothing made in the builder is public before it is published: new tenants and new pages, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import NO_SITE, AdminClient, Workdir, problem, title_of

pytestmark = pytest.mark.anyio

DOMAIN = "acme-new.localhost"
# What the dashboard's "New tenant" sends: a starter's placeholder pages, not to be served yet.
STARTER: dict[str, Any] = {
    "id": "acme-new",
    "name": "Acme New",
    "domains": [DOMAIN],
    "pages": {"/": [{"type": "Hero"}, {"type": "Services"}, {"type": "Testimonials"}, {"type": "Contact"}]},
    "published": False,
}
SERVICES: list[dict[str, Any]] = [{"type": "Hero", "variant": "simple", "props": {"title": "What we do"}}]


async def create(client: AdminClient) -> int:
    response = await client.api("POST", "/api/tenants", STARTER)
    assert response.status_code == 201, response.text
    assert response.json()["published"] is False
    return int(response.json()["version"])


async def assert_no_site(client: AdminClient, path: str) -> None:
    response = await client.site(DOMAIN, path)
    assert response.status_code == 404, response.text[:300]
    assert title_of(response) == NO_SITE
    assert "Consulting" not in response.text and "Acme New" not in response.text


async def test_a_new_tenant_answers_no_site_until_a_page_is_published(client: AdminClient, workdir: Workdir) -> None:
    version = await create(client)
    for path in ("/", "/services", "/_edge/theme.css"):
        await assert_no_site(client, path)

    draft = await client.api("PUT", "/api/tenants/acme-new/drafts/services", SERVICES)
    assert draft.status_code == 200, draft.text
    await assert_no_site(client, "/services")
    drafts = (await client.get("/api/tenants/acme-new/drafts")).json()["drafts"]
    pages = (await client.get("/api/tenants/acme-new/pages")).json()["pages"]
    assert drafts == ["/services"] and pages == ["/"]

    published = await client.api("POST", "/api/tenants/acme-new/publish/services", if_match=f'"{version}"')
    assert published.status_code == 200, published.text
    assert "published" not in published.json()
    services = await client.site(DOMAIN, "/services")
    assert services.status_code == 200 and "What we do" in services.text
    home = await client.site(DOMAIN, "/")
    assert home.status_code == 200 and title_of(home) == "Acme New"
    assert workdir.tenants()["acme-new"].get("published", True) is True
    records = (await client.get("/api/tenants/acme-new/history")).json()["records"]
    assert [record["version"] for record in records] == [version + 1, version]


async def test_publishing_the_tenant_serves_it_and_is_recorded(client: AdminClient) -> None:
    version = await create(client)
    await assert_no_site(client, "/")

    assert (await client.api("POST", "/api/tenants/acme-new/publish")).status_code == 428
    published = await client.api("POST", "/api/tenants/acme-new/publish", if_match=f'"{version}"')
    assert published.status_code == 200, published.text
    assert published.headers["etag"] == f'"{version + 1}"'
    home = await client.site(DOMAIN, "/")
    assert home.status_code == 200 and title_of(home) == "Acme New"

    again = await client.api("POST", "/api/tenants/acme-new/publish", if_match=f'"{version + 1}"')
    assert again.status_code == 200 and again.headers["etag"] == f'"{version + 1}"'  # nothing left to publish


async def test_a_draft_page_of_a_served_tenant_is_not_served(client: AdminClient) -> None:
    before = await client.site("basicsite.com", "/services")
    assert before.status_code == 404
    saved = await client.api("PUT", "/api/tenants/basicsite/drafts/services", SERVICES)
    assert saved.status_code == 200, saved.text
    assert (await client.site("basicsite.com", "/services")).status_code == 404
    version = (await client.get("/api/tenants/basicsite")).headers["etag"]
    published = await client.api("POST", "/api/tenants/basicsite/publish/services", if_match=version)
    assert published.status_code == 200, published.text
    after = await client.site("basicsite.com", "/services")
    assert after.status_code == 200 and "What we do" in after.text


async def test_unpublishing_takes_a_served_tenant_off_its_hosts(client: AdminClient) -> None:
    assert (await client.site("basicsite.com")).status_code == 200
    version = (await client.get("/api/tenants/basicsite")).headers["etag"]
    patched = await client.patch("/api/tenants/basicsite", {"published": False}, if_match=version)
    assert patched.status_code == 200, patched.text
    gone = await client.site("basicsite.com")
    assert gone.status_code == 404 and title_of(gone) == NO_SITE


@pytest.mark.parametrize("value", ["no", 0, None, [False]], ids=["text", "zero", "null", "list"])
async def test_published_must_be_true_or_false(client: AdminClient, value: object) -> None:
    issues = problem(await client.api("POST", "/api/tenants", {**STARTER, "published": value}), 422)["issues"]
    assert [issue["path"] for issue in issues] == ["published"]
    assert "expected true or false" in issues[0]["message"]


async def test_an_unpublished_tenant_keeps_its_domains(client: AdminClient) -> None:
    """Its hosts stay claimed: another tenant cannot take them while it waits to be published."""
    await create(client)
    taken = await client.api("POST", "/api/tenants", {**STARTER, "id": "acme-other", "published": True})
    issues = problem(taken, 422)["issues"]
    assert [issue["path"] for issue in issues] == ["domains[0]"]
    await assert_no_site(client, "/")


async def test_a_rollback_keeps_the_tenant_served(client: AdminClient) -> None:
    """Rolling back to the version before the first publish takes the content back, not the site off its hosts."""
    version = await create(client)
    await client.api("PUT", "/api/tenants/acme-new/drafts/", SERVICES)
    assert (await client.api("POST", "/api/tenants/acme-new/publish/", if_match=f'"{version}"')).status_code == 200
    rolled = await client.api(
        "POST", "/api/tenants/acme-new/rollback", {"version": version}, if_match=f'"{version + 1}"'
    )
    assert rolled.status_code == 200, rolled.text
    assert "published" not in rolled.json()
    home = await client.site(DOMAIN, "/")
    assert home.status_code == 200 and "What we do" not in home.text and title_of(home) == "Acme New"


async def test_a_tenant_may_show_coming_soon_until_published_and_nothing_of_its_pages(client: AdminClient) -> None:
    soon = {**STARTER, "description": "Tools for makers.", "coming_soon": True}
    response = await client.api("POST", "/api/tenants", soon)
    assert response.status_code == 201, response.text
    version = int(response.json()["version"])
    for path in ("/", "/services", "/anything"):
        page = await client.site(DOMAIN, path)
        assert page.status_code == 200, page.text[:300]
        assert title_of(page) == "Acme New · coming soon"
        assert "Tools for makers." in page.text and '<meta name="robots" content="noindex">' in page.text
        assert "Consulting" not in page.text and "te-hero" not in page.text  # none of its sections
    theme = await client.site(DOMAIN, "/_edge/theme.css")
    assert theme.status_code == 200 and "text/css" in theme.headers["content-type"]

    published = await client.api("POST", "/api/tenants/acme-new/publish", if_match=f'"{version}"')
    assert published.status_code == 200, published.text
    home = await client.site(DOMAIN, "/")
    assert home.status_code == 200 and title_of(home) == "Acme New" and "te-hero" in home.text


async def test_coming_soon_is_true_or_false(client: AdminClient) -> None:
    issues = problem(await client.api("POST", "/api/tenants", {**STARTER, "coming_soon": "yes"}), 422)["issues"]
    assert {
        "path": "coming_soon",
        "message": "expected true or false (a coming-soon page until published), found 'yes'",
    } in issues
