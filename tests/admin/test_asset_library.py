"""The asset library in a real browser: real uploads (a file input and a dropped file), thumbnails, refusals and
the 409 of an asset in use, and the builder's image picker from the library through publishing to the public page.

Screenshots are saved under test-output/dashboard/ for review.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import httpx
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect

from tests.admin.test_builder import AUTOSAVE_PAUSE_MS, admin, new_tenant, wait_saved
from tests.admin.test_dashboard import (  # noqa: F401 - fixtures
    TOKEN,
    Console,
    browser,
    open_dashboard,
    playwright,
    public,
    shot,
    site,
)
from tests.media import images
from tests.server import Server

LOGO = images.png((32, 32), (20, 90, 200))
PHOTO = images.png((60, 40), (200, 120, 30))
# The browser's own log line for an answer the test provoked on purpose (a refused upload, an asset in use).
REFUSED = re.compile(r"Failed to load resource: the server responded with a status of (415|409) ")


def other_errors(console: Console) -> list[str]:
    return [error for error in console.errors if not REFUSED.match(error)]


def reference(data: bytes, ext: str) -> str:
    return f"asset:{hashlib.sha256(data).hexdigest()}.{ext}"


def open_tab(browser: Browser, site: Server, tenant_id: str, where: str) -> tuple[Page, Console]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page, console = open_dashboard(context, site)
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/{where}")
    return page, console


def payload(name: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": "image/png", "buffer": data}


def drop_files(page: Page, selector: str, files: list[tuple[str, bytes, str]]) -> None:
    """Drop files as the browser does: a DataTransfer holding real File objects, dragged over, then dropped."""
    payload = [[name, base64.b64encode(data).decode(), kind] for name, data, kind in files]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, b64, type] of files) {
                const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                transfer.items.add(new File([data], name, { type }));
            }
            return transfer;
        }""",
        payload,
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def shows_image(image: Locator, width: int) -> None:
    """The image loaded: its natural width is the file's (polled; the page's CSP allows no evaluated strings)."""
    expect(image).to_have_js_property("naturalWidth", width)


def test_upload_a_logo_pick_it_in_the_navigation_publish_and_see_it_on_the_public_page(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Navigation", "props": {"brand": "Logo test"}}, {"type": "Hero"}])
    page, console = open_tab(browser, site, tenant_id, "assets")
    page.set_input_files("#asset-file", files=[payload("logo.png", LOGO)])
    expect(page.locator("#uploads li[data-file='logo.png']")).to_contain_text("uploaded")
    expect(page.locator("#assets-status")).to_have_text("logo.png uploaded.")
    card = page.locator("#asset-grid li.asset-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("logo.png")
    expect(card).to_contain_text("32\N{MULTIPLICATION SIGN}32")
    expect(card).to_contain_text("Not used")
    shows_image(card.locator("img"), 32)
    expect(page.locator("#quota-text")).to_contain_text(f"{len(LOGO)} B of")

    # The builder: the Navigation's logo is a picker; the library opens as a dialog, used from the keyboard.
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/page/")
    expect(page.locator("#props h2")).to_have_text("Navigation")
    page.focus("#p-logo-choose")
    page.keyboard.press("Enter")
    choice = page.locator(".modal .choice")
    expect(choice).to_have_count(1)
    expect(choice).to_be_focused()
    shows_image(choice.locator("img"), 32)
    shot(page, "31-asset-picker")
    page.keyboard.press("Enter")
    expect(page.locator(".modal")).to_have_count(0)
    expect(page.locator("#p-logo")).to_have_value(reference(LOGO, "png"))
    expect(page.locator("#p-logo-choose")).to_be_focused()  # focus returns where it was
    shows_image(page.locator("img.picker-thumb"), 32)
    wait_saved(page)
    # The draft preview, on the admin host, shows the logo too.
    preview = page.frame_locator("#preview")
    logo = preview.locator(f"img[src='/preview/{tenant_id}/_edge/media/{reference(LOGO, 'png')[6:]}']")
    expect(logo).to_have_count(1)
    shows_image(logo, 32)
    page.click("#publish")
    expect(page.locator("#draft-status")).to_contain_text("published as version")

    served = public(site, f"{tenant_id}.localhost")
    path = f"/_edge/media/{reference(LOGO, 'png')[6:]}"
    assert f'src="{path}"' in served.text
    media = public(site, f"{tenant_id}.localhost", path)
    assert media.status_code == 200 and media.content == LOGO
    assert media.headers["content-type"] == "image/png"

    # The library now says where it is used.
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/assets")
    expect(page.locator("#asset-grid li.asset-card")).to_contain_text("Used in page /")
    assert console.errors == []
    page.context.close()


def test_dropped_files_upload_with_progress_and_a_refusal_says_why(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero"}])
    page, console = open_tab(browser, site, tenant_id, "assets")
    expect(page.locator("#asset-grid")).to_contain_text("No assets yet")
    drop_files(page, "#drop-zone", [("photo.png", PHOTO, "image/png"), ("sneaky.png", images.HTML, "image/png")])
    good = page.locator("#uploads li[data-file='photo.png']")
    bad = page.locator("#uploads li[data-file='sneaky.png']")
    expect(good).to_contain_text("uploaded")
    expect(bad).to_contain_text("not uploaded")
    expect(bad).to_contain_text("not a file type")
    assert good.locator("progress").evaluate("bar => bar.value") == 1
    expect(page.locator("#assets-status")).to_contain_text("sneaky.png not uploaded")
    expect(page.locator("#asset-grid li.asset-card")).to_have_count(1)
    expect(page.locator("#asset-grid li.asset-card")).to_contain_text("60\N{MULTIPLICATION SIGN}40")
    listing = admin(site, "GET", f"/api/tenants/{tenant_id}/assets").json()
    assert [item["name"] for item in listing["items"]] == ["photo.png"]  # the refused file stored nothing

    # Another admin's upload arrives over the live connection: no reload.
    uploaded = admin_upload(site, tenant_id, images.SVG, "icon.svg")
    assert uploaded["reference"] == reference(images.SVG, "svg")
    expect(page.locator("#asset-grid li.asset-card")).to_have_count(2)
    shows_image(page.locator(f"#asset-grid li[data-asset='{uploaded['id']}'] img"), 24)
    shows_image(page.locator(f"#asset-grid li[data-asset='{reference(PHOTO, 'png')[6:]}'] img"), 60)
    shot(page, "30-assets-library")
    assert other_errors(console) == [], console.errors
    page.context.close()


def admin_upload(site: Server, tenant_id: str, data: bytes, name: str) -> dict[str, Any]:  # noqa: F811
    response = httpx.post(
        f"{site.url}/api/tenants/{tenant_id}/assets",
        files={"file": (name, data, "application/octet-stream")},
        headers={"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_an_asset_in_use_is_not_deleted_and_the_library_names_where(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero"}])
    used = admin_upload(site, tenant_id, LOGO, "logo.png")
    spare = admin_upload(site, tenant_id, PHOTO, "spare.png")
    etag = admin(site, "GET", f"/api/tenants/{tenant_id}").headers["etag"]
    hero = [{"type": "Hero", "variant": "split", "props": {"title": "Ours", "image": used["reference"]}}]
    put = admin_put_page(site, tenant_id, hero, etag)
    assert put == 200
    page, console = open_tab(browser, site, tenant_id, "assets")
    in_use = page.locator(f"#asset-grid li[data-asset='{used['id']}']")
    expect(in_use).to_contain_text("Used in page /")
    in_use.get_by_role("button", name="Delete logo.png").click()
    page.locator(".modal").get_by_role("button", name="Delete").click()
    expect(in_use.locator(".error")).to_contain_text("in use (page /)")
    expect(page.locator("#asset-grid li.asset-card")).to_have_count(2)

    # An unused one goes, confirmed from the keyboard.
    page.locator(f"#asset-grid li[data-asset='{spare['id']}']").get_by_role("button", name="Delete spare.png").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".modal")).to_be_visible()
    page.keyboard.press("Enter")  # the dialog's first button, Delete, has the focus
    expect(page.locator("#asset-grid li.asset-card")).to_have_count(1)
    expect(page.locator("#assets-status")).to_have_text("spare.png deleted.")
    assert other_errors(console) == [], console.errors
    page.context.close()


def admin_put_page(site: Server, tenant_id: str, sections: list[dict[str, Any]], etag: str) -> int:  # noqa: F811
    response = httpx.put(
        f"{site.url}/api/tenants/{tenant_id}/pages/",
        json=sections,
        headers={"host": "admin.localhost", "authorization": f"Bearer {TOKEN}", "if-match": etag},
        timeout=10,
    )
    return response.status_code


def test_upload_in_place_in_the_builder_and_pick_the_theme_logo_in_settings(
    browser: Browser,  # noqa: F811
    site: Server,  # noqa: F811
) -> None:
    tenant_id = new_tenant(site, [{"type": "Hero", "variant": "split", "props": {"title": "Split"}}])
    page, console = open_tab(browser, site, tenant_id, "page/")
    expect(page.locator("#props h2")).to_have_text("Hero")
    expect(page.locator("#p-image")).to_have_value("/_edge/assets/hero.svg")  # an existing URL value stays a URL
    page.set_input_files("#p-image-file", files=[payload("photo.png", PHOTO)])
    expect(page.locator("#p-image")).to_have_value(reference(PHOTO, "png"))
    wait_saved(page)
    assert admin(site, "GET", f"/api/tenants/{tenant_id}/drafts/").json()["page"][0]["props"]["image"] == reference(
        PHOTO, "png"
    )
    # One undo step takes the upload back; a URL typed by hand is still accepted.
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#p-image")).to_have_value("/_edge/assets/hero.svg")
    page.click("#p-image")
    page.keyboard.press("Control+A")
    page.keyboard.type("https://images.example/", delay=30)
    page.wait_for_timeout(AUTOSAVE_PAUSE_MS)
    page.keyboard.type("hero.png", delay=30)
    wait_saved(page)
    assert admin(site, "GET", f"/api/tenants/{tenant_id}/drafts/").json()["page"][0]["props"]["image"] == (
        "https://images.example/hero.png"
    )

    # Settings: the theme's logo from the library, without typing a reference.
    page.goto(f"http://admin.localhost:{site.port}/#/t/{tenant_id}/settings")
    page.click("#f-logo-choose")
    page.locator(".modal .choice").first.click()
    expect(page.locator("#f-logo")).to_have_value(reference(PHOTO, "png"))
    page.click("#save-tenant")
    expect(page.locator("#save-tenant").locator("xpath=..").locator(".status")).to_contain_text("saved as version")
    theme = admin(site, "GET", f"/api/tenants/{tenant_id}").json()["theme"]
    assert theme["logo"] == reference(PHOTO, "png")
    # The draft preview shows the typed URL's image, whose host does not exist; the form itself fetched nothing.
    assert [error for error in console.errors if "ERR_NAME_NOT_RESOLVED" not in error] == []
    page.context.close()
