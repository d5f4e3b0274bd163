"""The demo tenants as a visitor finds them on a real `tenantedge serve`: every same-site link, form, in-page
anchor, image and icon resolves, with and without the content database, each tenant shows its own logo, favicon
and hero image, and no page leans on an emoji font."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser

from tenantedge.clock import SystemClock
from tenantedge.content.db import ContentDatabase
from tenantedge.content.seed import seed_demo
from tests.admin.test_dashboard import Console, browser, playwright  # noqa: F401 - fixtures
from tests.database import Urls, create_database, drop_database
from tests.server import ROOT, Server

DEMO: dict[str, dict[str, Any]] = json.loads((ROOT / "tenants.json").read_text())["tenants"]
TENANTS: dict[str, list[str]] = {tenant: document["domains"] for tenant, document in DEMO.items()}
# What a browser asks of every site, linked or not.
ICONS = ("/favicon.ico", "/apple-touch-icon.png")
SHOTS = ROOT / "test-output" / "demo"
# Pictographs and the emoji presentation selector: what renders as a box where no emoji font is installed.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Links(HTMLParser):
    """The links (a and link href, a GET form's action), the targets of POST forms, images (img src and srcset,
    icons) and element ids of one page."""

    links: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "link" and "icon" in (found.get("rel") or "").split():
            self.images.append(found.get("href") or "")
        elif tag in ("a", "link") and found.get("href") is not None:
            self.links.append(found["href"] or "")
        elif tag in ("img", "source"):
            self.images += [found["src"] or ""] if found.get("src") is not None else []
            srcset = (found.get("srcset") or "").split(",")
            self.images += [candidate.split()[0] for candidate in srcset if candidate.strip()]
        elif tag == "form" and (found.get("method") or "get").lower() == "post":
            self.posts.append(found.get("action") or "")
        elif tag == "form":
            self.links.append(found.get("action") or "")


def parsed(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@dataclass
class Crawl:
    """Every page reached from a tenant's home page, and every link that did not resolve."""

    server: Server
    host: str
    domains: list[str]
    pages: dict[str, Links] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)  # the HTML pages' text, by path
    broken: list[str] = field(default_factory=list)

    def run(self) -> None:
        queue = ["/"]
        anchors: list[tuple[str, str, str]] = []  # (page, target, fragment)
        while queue:
            target = queue.pop()
            if target in self.pages:
                continue
            page = self.fetch(target)
            if page is None:
                continue
            self.pages[target] = page
            for link in page.links:
                if link == "#":
                    self.broken.append(f"{target}: a link to '#', which goes nowhere")
                    continue
                resolved = self.same_site(target, link)
                if resolved is None:
                    continue
                without, fragment = urldefrag(resolved)
                if without not in self.pages:
                    queue.append(without)
                if fragment:
                    anchors.append((target, without, fragment))
        for source, target, fragment in anchors:
            if target in self.pages and fragment not in self.pages[target].ids:
                self.broken.append(f"{source}: #{fragment} is no element's id on {target}")
        for source, page in list(self.pages.items()):
            for action in page.posts:
                self.check_post(source, action)

    def check_post(self, source: str, action: str) -> None:
        """A POST form's target must be answered (an empty form from nowhere is refused, not unknown)."""
        target = self.same_site(source, action)
        if target is None:
            self.broken.append(f"{source}: a form posts off the site, to {action}")
            return
        answer = httpx.post(self.server.url + target, headers={"host": self.host}, timeout=10)
        if answer.status_code in (404, 405) or (answer.status_code >= 500 and answer.status_code != 503):
            self.broken.append(f"{source}: the form's target {target} answers a POST with {answer.status_code}")

    def fetch(self, target: str) -> Links | None:
        for _ in range(5):
            answer = self.server.get(self.host, target)
            if answer.status_code in REDIRECTS:
                location = self.same_site(target, answer.headers["location"])
                if location is None:
                    self.broken.append(f"{target}: redirects off the site, to {answer.headers['location']}")
                    return None
                target = location
                continue
            if answer.status_code != 200:
                self.broken.append(f"{target}: {answer.status_code}")
                return None
            if not answer.headers["content-type"].startswith("text/html"):
                return Links()
            self.documents[target] = answer.text
            return parsed(answer.text)
        self.broken.append(f"{target}: too many redirects")
        return None

    def same_site(self, base: str, link: str) -> str | None:
        """The link as a path (with query and fragment) on this site, or None for one that leaves it."""
        absolute = urljoin(f"http://{self.host}{base}", link)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or parts.hostname not in self.domains:
            return None
        return absolute.removeprefix(f"{parts.scheme}://{parts.netloc}") or "/"


def crawl(server: Server) -> Iterator[Crawl]:
    for tenant, domains in TENANTS.items():
        found = Crawl(server, domains[0], domains)
        found.run()
        assert found.pages, f"{tenant}: nothing crawled"
        yield found


@pytest.fixture(scope="module")
def plain() -> Iterator[Server]:
    server = Server(env={"TENANTEDGE_DATABASE_URL": ""})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def with_posts() -> Iterator[Server]:
    async def seeded() -> Urls:
        urls = await create_database()
        database = ContentDatabase(urls.app, SystemClock(), timeout=10)
        try:
            await seed_demo(database)
        finally:
            await database.close()
        return urls

    urls = asyncio.run(seeded())
    server = Server(env={"TENANTEDGE_DATABASE_URL": urls.app})
    yield server
    server.stop()
    asyncio.run(drop_database(urls))


@pytest.mark.parametrize("which", ["plain", "with_posts"], ids=["no database", "demo posts"])
def test_every_link_of_every_demo_tenant_resolves(which: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(which)
    broken = [f"{site.host}{problem}" for site in crawl(server) for problem in site.broken]
    assert not broken, "\n".join(broken)


def test_the_crawl_reaches_posts_when_the_database_has_them(with_posts: Server) -> None:
    coders = next(site for site in crawl(with_posts) if site.host == "codersinflow.com")
    assert any(path.startswith("/blog/") for path in coders.pages), sorted(coders.pages)


def test_a_blog_without_database_links_nowhere_it_cannot_go(plain: Server) -> None:
    html = plain.get("codersinflow.com").text
    blog = html[html.index("te-blog") :]
    blog = blog[: blog.index("</section>")]
    assert 'href="#"' not in blog and "<a " not in blog


@pytest.mark.parametrize("which", ["plain", "with_posts"], ids=["no database", "demo posts"])
def test_no_demo_page_shows_an_emoji(which: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(which)
    found = {
        f"{site.host}{path}": sorted(set(EMOJI.findall(html)))
        for site in crawl(server)
        for path, html in site.documents.items()
    }
    assert {page: chars for page, chars in found.items() if chars} == {}


def images_of(site: Crawl) -> tuple[dict[str, str], list[str]]:
    """Every image and icon the crawled pages show, on this site (with a page showing it), and those off it."""
    found: dict[str, str] = {}
    elsewhere: list[str] = []
    for page, links in sorted(site.pages.items()):
        for image in links.images:
            resolved = site.same_site(page, image)
            if resolved is None:
                elsewhere.append(f"{site.host}{page}: {image!r} is not on the tenant's own domain")
            else:
                found.setdefault(resolved, page)
    return found, elsewhere


@pytest.mark.parametrize("which", ["plain", "with_posts"], ids=["no database", "demo posts"])
def test_every_image_and_icon_of_every_demo_tenant_answers(which: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(which)
    broken: list[str] = []
    for site in crawl(server):
        images, elsewhere = images_of(site)
        assert images, f"{site.host}: no image on any page"
        broken += elsewhere
        for image, page in {**images, **dict.fromkeys(ICONS, "(the browser)")}.items():
            answer = server.get(site.host, image)
            kind = answer.headers.get("content-type", "")
            if answer.status_code != 200 or not kind.startswith("image/") or not answer.content:
                broken.append(f"{site.host}{page}: {image} answers {answer.status_code} {kind}")
    assert not broken, "\n".join(broken)


def test_each_demo_tenant_shows_its_own_logo_favicon_and_hero_image(plain: Server) -> None:
    owners: dict[str, str] = {}
    for tenant, document in DEMO.items():
        home = document["pages"]["/"]  # a list of sections, or an object with them (and experiments)
        theme, hero = document["theme"], (home["sections"] if isinstance(home, dict) else home)[0]
        used = {name: str(value).removeprefix("asset:") for name, value in
                (("logo", theme["logo"]), ("favicon", theme["favicon"]), ("hero", hero["props"]["image"]))}  # fmt: skip
        html = plain.get(TENANTS[tenant][0]).text
        assert f'<link rel="icon" href="/_edge/media/{used["favicon"]}">' in html, tenant
        assert f'<img src="/_edge/media/{used["logo"]}"' in html, tenant
        assert f'<img class="te-hero__image" src="/_edge/media/{used["hero"]}"' in html, tenant
        assert "/_edge/assets/hero.svg" not in html, f"{tenant}: the shared placeholder is back"
        icon = plain.get(TENANTS[tenant][0], "/favicon.ico")
        assert icon.content == (ROOT / "assets" / tenant / used["favicon"]).read_bytes(), tenant
        for asset in used.values():
            assert owners.setdefault(asset, tenant) == tenant, f"{tenant} and {owners[asset]} share {asset}"


@pytest.mark.parametrize("tenant", list(TENANTS))
def test_each_demo_home_page_draws_its_images(tenant: str, plain: Server, browser: Browser) -> None:  # noqa: F811
    """In Chromium, as a visitor sees it (screenshots in test-output/demo/): the logo and hero image are drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = Console(page)
    page.goto(f"http://{tenant}.localhost:{plain.port}/")
    for selector in (".te-nav__brand img", ".te-hero__image"):
        image = page.locator(selector).first
        drawn = image.evaluate("(img) => img.complete && img.naturalWidth > 0")
        box = image.bounding_box()
        assert drawn and box is not None and box["width"] >= 32, f"{tenant}: {selector} is not drawn"
    icon = page.evaluate("() => fetch('/favicon.ico').then((answer) => answer.status)")
    assert icon == 200 and console.errors == [], console.errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{tenant}.png"))
    context.close()
