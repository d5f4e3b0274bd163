"""An admin overrides a tenant's robots.txt and sitemap through the API; a bad override is a 422 naming its path."""

from __future__ import annotations

import pytest

from tests.admin.conftest import AdminClient, problem

pytestmark = pytest.mark.anyio
BASIC = "/api/tenants/basicsite"
HOST = "basicsite.localhost"


async def test_a_patch_overrides_robots_and_the_sitemap_at_once(client: AdminClient) -> None:
    assert "Sitemap: https://basicsite.com/sitemap.xml" in (await client.site(HOST, "/robots.txt")).text
    assert (await client.site(HOST, "/sitemap.xml")).status_code == 200  # cached before the change
    robots = "User-agent: *\nDisallow: /\n"
    response = await client.patch(BASIC, {"seo": {"robots": robots, "sitemap": False}}, if_match='"1"')
    assert response.status_code == 200, response.text
    assert response.json()["seo"] == {"robots": robots, "sitemap": False}
    assert (await client.site(HOST, "/robots.txt")).text == robots
    assert (await client.site(HOST, "/sitemap.xml")).status_code == 404


async def test_a_bad_override_is_refused_naming_its_json_path(client: AdminClient) -> None:
    response = await client.patch(BASIC, {"seo": {"exclude": ["/menu"]}}, if_match='"1"')
    issues = problem(response, 422)["issues"]
    assert [issue["path"] for issue in issues] == ["seo.exclude[0]"], issues
    assert "expected one of this tenant's page paths" in issues[0]["message"]
