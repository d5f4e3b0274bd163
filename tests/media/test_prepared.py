"""A hot asset is written with a head prepared once: the same bytes on the wire as stock uvicorn sends, for the
whole image, HEAD, and the conditional and range requests that take the ordinary way."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.http.test_server import PREPARED, STOCK, Uvicorn, request
from tests.media import images
from tests.server import copy_demo

PHOTO = images.photo((1000, 600))
REQUEST_ID = re.compile(rb"x-request-id: [0-9a-f]+-[0-9a-f]+\r\n")


@pytest.mark.parametrize(("asset", "variant"), [("original", False), ("width variant", True)])
def test_hot_assets_are_byte_for_byte_what_stock_uvicorn_sends(tmp_path: Path, asset: str, variant: bool) -> None:
    copy_demo(tmp_path)
    settings = {"TENANTEDGE_TENANTS": str(tmp_path / "tenants.json")}
    servers = [Uvicorn(STOCK, settings=settings), Uvicorn(PREPARED, settings=settings)]
    try:
        uploaded = httpx.post(
            f"http://127.0.0.1:{servers[0].port}/api/tenants/basicsite/assets?filename=photo.jpg",
            content=PHOTO,
            headers={"host": "admin.localhost", "authorization": "Bearer " + "t" * 32},
        )
        assert uploaded.status_code == 201, uploaded.text
        path = uploaded.json()["path"]
        if variant:
            path = path.replace(".jpg", "-480w.webp")
        etag = httpx.get(f"http://127.0.0.1:{servers[0].port}{path}", headers={"host": "basicsite.com"}).headers["etag"]
        conversation = [
            request("basicsite.com", path),
            request("basicsite.com", path, method="HEAD"),
            request("basicsite.com", path, if_none_match=etag),
            request("basicsite.com", path, range="bytes=0-99"),
            request("basicsite.com", path, connection="close"),
        ]
        for server in servers:  # into both memories first: the bytes of hits are what is compared
            server.exchange(*conversation)
        expected = servers[0].exchange(*conversation)
        assert expected.count(b"HTTP/1.1 200") == 3 and b"HTTP/1.1 304" in expected and b"HTTP/1.1 206" in expected
        # Each response carries its own request id, in the same place with either protocol.
        assert REQUEST_ID.sub(b"", servers[1].exchange(*conversation)) == REQUEST_ID.sub(b"", expected)
        assert expected.count(b"x-request-id: ") == expected.count(b"HTTP/1.1 ")
    finally:
        for server in servers:
            server.stop()
