"""A tenant's traffic in the dashboard, in Debian's Chromium against a real server that counts requests.

Screenshots are saved under test-output/dashboard/ for review.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.admin.test_dashboard import CHROMIUM, Console, shot
from tests.server import Server, copy_demo

TOKEN = "traffic-charts-token-0001"
# Requests sent to each tenant's public site: clientsite the busiest, basicsite the one with errors.
VISITS = {
    "clientsite.com": ["/"] * 9,
    "basicsite.com": ["/", "/", "/", "/", "/missing-1", "/missing-2"],
    "codersinflow.com": ["/", "/"],
}


def start(tmp_path_factory: pytest.TempPathFactory, metrics: bool) -> Server:
    folder = tmp_path_factory.mktemp("traffic")
    copy_demo(folder)
    env = {"TENANTEDGE_ADMIN_TOKEN": TOKEN, "TENANTEDGE_RELOAD_INTERVAL": "0"}
    return Server("--tenants", str(folder / "tenants.json"), env={**env, "TENANTEDGE_METRICS": "1" if metrics else "0"})


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(tmp_path_factory, metrics=True)
    for host, paths in VISITS.items():
        for path in paths:
            server.get(host, path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def uncounted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(tmp_path_factory, metrics=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        found: Playwright = playwright
        browser = found.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def stats(server: Server, tenant: str) -> dict[str, Any]:
    """The tenant's stats once every visit is in them (the worker adds its figures once a second)."""
    deadline = time.monotonic() + 10
    expected = sum(len(paths) for host, paths in VISITS.items() if host.startswith(tenant))
    while True:
        body: dict[str, Any] = httpx.get(
            f"{server.url}/api/tenants/{tenant}/stats",
            headers={"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        if body["totals"]["requests"] >= expected or time.monotonic() > deadline:
            assert body["totals"]["requests"] == expected
            return body
        time.sleep(0.2)


def sign_in(browser: Browser, server: Server) -> tuple[Page, Console]:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    console = Console(page)
    page.goto(f"http://admin.localhost:{server.port}/")
    page.click("#token")
    page.keyboard.type(TOKEN, delay=25)
    page.wait_for_timeout(150)
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_contain_text("signed in as")
    return page, console


def test_the_overview_charts_the_last_hour_and_the_list_sorts_by_traffic(browser: Browser, counted: Server) -> None:
    body = stats(counted, "basicsite")
    for tenant in ("clientsite", "codersinflow"):
        stats(counted, tenant)
    page, console = sign_in(browser, counted)
    page.click("tr[data-tenant=basicsite] a")
    page.get_by_role("tab", name="Overview").click()

    # The page may read its stats a minute later than the test did: compare what a minute's shift keeps.
    requests = page.locator("#chart-requests")
    expect(requests).to_have_attribute("role", "img")
    expect(requests.locator("circle.point")).to_have_count(60)
    peak = max(minute["requests"] for minute in body["minutes"])
    expect(requests).to_have_attribute("data-peak", str(peak))
    expect(requests).to_have_attribute(
        "aria-label", re.compile(rf"^Requests per minute, \d\d:\d\d to \d\d:\d\d UTC: peak {peak} at ")
    )
    assert requests.locator("title").first.text_content() == requests.get_attribute("aria-label")
    values = [float(value) for value in _points(page, "#chart-requests")]
    assert sum(values) == 6 and sorted(values) == sorted(minute["requests"] for minute in body["minutes"])
    expect(requests.locator("text.axis-label")).to_have_text(["minute (UTC)", "requests/min"])

    errors = page.locator("#chart-errors")
    expect(errors.locator("circle.point")).to_have_count(60)
    expect(errors).to_have_attribute("data-peak", str(max(minute["error_rate"] for minute in body["minutes"])))
    assert sorted(float(value) for value in _points(page, "#chart-errors")) == sorted(
        minute["error_rate"] for minute in body["minutes"]
    )
    expect(errors.locator("text.axis-label")).to_have_text(["minute (UTC)", "error rate"])

    expect(page.locator("#figure-requests")).to_have_text("6")
    expect(page.locator("#figure-hit-ratio")).to_have_text("50 %")  # the first "/" and each missing page rendered
    expect(page.locator("#figure-error-rate")).to_have_text("33.3 %")
    expect(page.locator("#figure-render-p50")).to_have_text(f"{_ms(body['totals']['render_p50_ms'])} ms")
    expect(page.locator("#figure-render-p95")).to_have_text(f"{_ms(body['totals']['render_p95_ms'])} ms")
    expect(page.locator("#last-publish")).to_have_count(0)  # the stats do not carry the last publish yet
    shot(page, "40-traffic-overview")

    page.click("a.brand")
    expect(page.locator("#tenant-sort")).to_have_value("name")
    expect(page.locator("tbody tr")).to_have_count(4)  # every tenant, by name
    page.locator("#tenant-sort").focus()
    page.keyboard.press("ArrowDown")  # "By traffic, last hour"
    expect(page.locator("#tenant-sort")).to_have_value("requests")
    # darkflows had no request; "-" is the admin's and the health checks', listed as "(no tenant)"
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.locator("tr[data-tenant='-'] td").first).to_have_text("(no tenant)")
    ordered = page.locator("tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.tenant)")
    assert [tenant for tenant in ordered if tenant != "-"] == ["clientsite", "basicsite", "codersinflow"]
    expect(page.locator("tr[data-tenant=clientsite] td").nth(1)).to_have_text("9")
    shot(page, "41-tenants-by-traffic")
    page.keyboard.press("ArrowDown")  # "By errors, last hour"
    expect(page.locator("#tenant-sort")).to_have_value("errors")
    expect(page.locator("tbody tr").first).to_have_attribute("data-tenant", "basicsite")
    expect(page.locator("tbody tr").first.locator("td").nth(2)).to_have_text("2")
    assert console.errors == []


def test_the_overview_says_how_far_the_last_publish_reached(browser: Browser, counted: Server) -> None:
    admin = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    current = httpx.get(f"{counted.url}/api/tenants/darkflows", headers=admin, timeout=10)
    published = httpx.patch(
        f"{counted.url}/api/tenants/darkflows",
        json={"name": "Darkflows, renamed"},
        headers={**admin, "if-match": current.headers["etag"]},
        timeout=10,
    )
    assert published.status_code == 200, published.text
    page, console = sign_in(browser, counted)
    page.click("tr[data-tenant=darkflows] a")
    page.get_by_role("tab", name="Overview").click()
    # One worker without Redis: it acknowledges its own publish at once.
    expect(page.locator("#last-publish")).to_have_text(
        re.compile(rf"^Last publish: v{published.json()['version']}, just now, reached 1/1 workers in \d+ ms$")
    )
    shot(page, "43-last-publish")
    assert console.errors == []


def test_with_requests_not_counted_the_overview_says_so(browser: Browser, uncounted: Server) -> None:
    page, console = sign_in(browser, uncounted)
    names = page.locator("tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.tenant)")
    page.goto(f"http://admin.localhost:{uncounted.port}/#/t/basicsite/overview")
    expect(page.locator("#traffic-off")).to_have_text("Traffic figures are off: start with TENANTEDGE_METRICS=1")
    expect(page.locator(".chart")).to_have_count(0)
    shot(page, "42-traffic-off")
    page.click("a.brand")
    expect(page.locator("tbody tr")).to_have_count(len(names))
    assert page.locator("tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.tenant)") == names
    page.locator("#tenant-sort").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#traffic-off")).to_be_visible()
    # The 404s of the stats API are what the dashboard expected: the browser logs them as failed loads only.
    assert [error for error in console.errors if "404" not in error] == []


def _points(page: Page, chart: str) -> list[str]:
    found: list[str] = page.locator(f"{chart} circle.point").evaluate_all(
        "(nodes) => nodes.map((n) => n.dataset.value)"
    )
    return found


def _ms(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(round(value, 2))
