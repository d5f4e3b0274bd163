"""The prepared-head protocol against stock uvicorn: the same app must put the same bytes on the wire."""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from tenantedge.http.server import send_prepared
from tenantedge.pagecache import encode_page
from tests.server import ROOT, Server, free_port

STOCK, PREPARED = "httptools", "tenantedge.http.server:PreparedHttpToolsProtocol"
DATE = re.compile(rb"^date: [^\r]*\r\n", re.MULTILINE)


class Uvicorn:
    """tenantedge's app on uvicorn with the given HTTP protocol, in its own process."""

    def __init__(self, http: str, access_log: bool = False, settings: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        command = [sys.executable, "-m", "uvicorn", "tenantedge.app:create_app", "--factory", "--port", str(self.port)]
        command += ["--http", http, "--loop", "uvloop", "--no-server-header", "--log-level", "info"]
        command += [] if access_log else ["--no-access-log"]
        env = {**os.environ, "TENANTEDGE_ADMIN_TOKEN": "t" * 32, "TENANTEDGE_TENANTS": str(ROOT / "tenants.json")}
        env.update(settings or {})
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/_edge/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"uvicorn --http {http} did not start: {self.output()}")

    def exchange(self, *requests: bytes) -> bytes:
        """Each request in turn on one connection, after the whole answer to the one before; then until EOF.

        Requests in one argument are pipelined: sent at once. The last one should close the connection.
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            received = b""
            for number, raw in enumerate(requests):
                connection.sendall(raw)
                if number < len(requests) - 1:
                    received += _read_answer(connection, head=raw.startswith(b"HEAD "))
            while chunk := connection.recv(65536):
                received += chunk
        return DATE.sub(b"date: -\r\n", received)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def _read_answer(connection: socket.socket, head: bool) -> bytes:
    """One whole response: its head, then as many bytes as Content-Length says (none for HEAD or a 304)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head_part, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"^content-length: (\d+)\r?$", head_part, re.MULTILINE | re.IGNORECASE)
    expected = 0 if head or head_part.startswith(b"HTTP/1.1 304") or length is None else int(length.group(1))
    while len(body) < expected:
        body += connection.recv(65536)
    assert len(body) == expected, "the server wrote more than one answer's worth"
    return head_part + b"\r\n\r\n" + body


@pytest.fixture(scope="module", params=["page cache on", "page cache off"])
def servers(request: pytest.FixtureRequest) -> Iterator[tuple[Uvicorn, Uvicorn]]:
    """Cached pages carry heads serialised when stored; with the cache off, each page's heads are built as sent."""
    settings = {} if request.param == "page cache on" else {"TENANTEDGE_PAGE_CACHE_ENTRIES": "0"}
    stock, prepared = Uvicorn(STOCK, settings=settings), Uvicorn(PREPARED, settings=settings)
    try:
        yield stock, prepared
    finally:
        stock.stop()
        prepared.stop()


def request(host: str, path: str = "/", method: str = "GET", version: str = "1.1", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", f"Host: {host}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


ETAG = '"0"'  # replaced by the page's real ETag in the test
CONVERSATIONS = {
    "keep-alive, then close": [request("codersinflow.com"), request("codersinflow.com", connection="close")],
    "pipelined": [
        request("codersinflow.com") + request("basicsite.com", "/about") + request("clientsite.com", "/nope")
        + request("codersinflow.com", connection="close")
    ],
    "head": [request("codersinflow.com", method="HEAD"), request("codersinflow.com", connection="close")],
    "gzip": [request("codersinflow.com", accept_encoding="gzip", connection="close")],
    "not modified": [request("codersinflow.com", if_none_match=ETAG, connection="close")],
    "http/1.0": [request("codersinflow.com", version="1.0")],
    "redirect and unknown host": [request("codersinflow.net", "/p?q=1"), request("nobody.example", connection="close")],
}  # fmt: skip


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_prepared_responses_are_byte_for_byte_what_stock_uvicorn_sends(
    servers: tuple[Uvicorn, Uvicorn], name: str
) -> None:
    stock, prepared = servers
    etag = httpx.get(f"http://127.0.0.1:{stock.port}/", headers={"host": "codersinflow.com"}).headers["etag"]
    conversation = [raw.replace(ETAG.encode(), etag.encode()) for raw in CONVERSATIONS[name]]
    for server in servers:  # the pages into both page caches first: the bytes of hits are what is compared
        server.exchange(*conversation)
    expected = stock.exchange(*conversation)
    assert expected.startswith(b"HTTP/1.1 ") and expected.count(b"HTTP/1.1 ") >= len(conversation)
    # Each response carries its own request id, in the same place with either protocol.
    assert _REQUEST_ID.sub(b"", prepared.exchange(*conversation)) == _REQUEST_ID.sub(b"", expected)
    assert expected.count(b"x-request-id: ") == expected.count(b"HTTP/1.1 ")


_REQUEST_ID = re.compile(rb"x-request-id: [0-9a-f]+-[0-9a-f]+\r\n")


def test_the_access_log_still_names_each_request() -> None:
    server = Uvicorn(PREPARED, access_log=True)
    try:
        for _ in range(2):
            server.exchange(request("codersinflow.com", "/about", connection="close"))
        server.process.terminate()
        server.process.wait(timeout=20)
        assert server.output().count('"GET /about HTTP/1.1" 200') == 2, server.output()
    finally:
        server.stop()


@pytest.mark.anyio
async def test_without_uvicorns_own_send_it_falls_back_to_ordinary_messages() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", b"2")]
    await send_prepared(send, 200, headers, b"content-length: 2\r\n", b"hi", None)
    await send_prepared(send, 200, headers, b"content-length: 2\r\n", b"hi", (b"x-request-id", b"r-1"))
    assert sent == [
        {"type": "http.response.start", "status": 200, "headers": headers},
        {"type": "http.response.body", "body": b"hi"},
        {"type": "http.response.start", "status": 200, "headers": (*headers, (b"x-request-id", b"r-1"))},
        {"type": "http.response.body", "body": b"hi"},
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"x-ok", b"a\tb"),
        (b"X-Upper", b"v"),
        (b"bad name", b"v"),
        (b"a: b", b"v"),
        (b"x:y", b"v"),
        (b"", b"v"),
        (b"x", b"a\r\nb"),
        (b"x", b"a\nb"),
        (b"x", b"a\rb"),
        (b"x", b"\x00"),
        (b"x", b"\x7f"),
    ],
)
def test_a_head_is_prepared_only_from_headers_a_server_would_send(name: bytes, value: bytes) -> None:
    page = encode_page(200, b"body", [(name, value)], gzip_min_bytes=0)
    assert (page.identity.head is not None) is (name == b"x-ok")
    if page.identity.head is not None:
        assert page.identity.head.startswith(b"x-ok: a\tb\r\n") and page.identity.head.endswith(
            b"content-length: 4\r\n"
        )


@pytest.fixture(scope="module")
def serve() -> Iterator[Server]:
    running = Server()
    try:
        yield running
    finally:
        running.stop()


def exchange(server: Server, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


ABSOLUTE_FORMS = {
    "authority wins over Host": (b"http://basicsite.com/", b"200", b"tenant:basicsite page:basicsite:/"),
    "no path": (b"http://basicsite.com", b"200", b"tenant:basicsite page:basicsite:/"),
    "query without path": (b"http://basicsite.com?x=1", b"200", b"tenant:basicsite page:basicsite:/"),
    "scheme and host in capitals, a port": (b"HTTP://BASICSITE.COM:80/", b"200", b"tenant:basicsite"),
    "https": (b"https://basicsite.com/", b"200", b"tenant:basicsite"),
    "path and query kept": (b"http://codersinflow.net/p?q=1", b"301", b"location: http://codersinflow.com/p?q=1"),
    "origin form: Host as sent": (b"/", b"200", b"tenant:codersinflow page:codersinflow:/"),
    "userinfo is an error": (b"http://user@basicsite.com/", b"400", b"content-length: 12"),
    "no authority": (b"http:///", b"400", b"content-length: 12"),
}


@pytest.mark.parametrize(("target", "status", "expected"), list(ABSOLUTE_FORMS.values()), ids=list(ABSOLUTE_FORMS))
def test_an_absolute_form_target_names_the_host(serve: Server, target: bytes, status: bytes, expected: bytes) -> None:
    """RFC 9112 section 3.2.2: with an absolute-form target, the server ignores Host and uses the authority."""
    raw = b"GET " + target + b" HTTP/1.1\r\nHost: codersinflow.com\r\nConnection: close\r\n\r\n"
    answer = exchange(serve, raw)
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:300]
    assert expected in answer.partition(b"\r\n\r\n")[0], answer[:600]


# The uvicorn code tenantedge.http.server overrides, mirrors or calls, as of the uvicorn version it was written
# against. A change here means reading the new code against the protocol's overrides before updating a digest.
UVICORN_INTERNALS = {
    "HttpToolsProtocol.__init__": "4f08999410347141",
    "HttpToolsProtocol.connection_made": "6efb565ff3d36b91",
    "HttpToolsProtocol.connection_lost": "c91a4c9bf2e29c55",
    "HttpToolsProtocol.data_received": "010a7ae59a5d3b1a",  # replaced, minus its cancelling of the timer
    "HttpToolsProtocol.on_message_begin": "96d377fdc7c2baef",  # scope["headers"] is self.headers
    "HttpToolsProtocol.on_url": "37be44e962b04ca8",  # replaced
    "HttpToolsProtocol.on_headers_complete": "1ea8589acfad92d8",  # reads self.url and self.headers
    "HttpToolsProtocol.on_message_complete": "1fbad42dc31fc01f",
    "HttpToolsProtocol.on_response_complete": "64e254f28e389e76",  # arms the timer only when a request is awaited
    "HttpToolsProtocol.timeout_keep_alive_handler": "8b53bf5f2e202970",  # replaced
    "HttpToolsProtocol.handle_websocket_upgrade": "179c4f769386ab89",
    "HttpToolsProtocol._unset_keepalive_if_required": "00a6a4e47214e68e",
    "HttpToolsProtocol.send_400_response": "ae5a4a3782b646fd",  # a fixed body, no echo of the request
    "RequestResponseCycle.__init__": "4d2f220910c33c12",
    "RequestResponseCycle.send": "abdd8601b326a8da",  # send_prepared does what it does for a whole response
}


def test_the_uvicorn_code_the_protocol_builds_on_is_unchanged() -> None:
    classes = {"HttpToolsProtocol": HttpToolsProtocol, "RequestResponseCycle": RequestResponseCycle}
    found = {}
    for name in UVICORN_INTERNALS:
        owner, attribute = name.split(".")
        source = inspect.getsource(getattr(classes[owner], attribute))
        found[name] = hashlib.sha256(source.encode()).hexdigest()[:16]
    changed = [name for name, digest in UVICORN_INTERNALS.items() if found[name] != digest]
    assert not changed, (
        f"uvicorn {uvicorn.__version__} changed {', '.join(changed)}: check src/tenantedge/http/server.py "
        "against the new code, then update UVICORN_INTERNALS"
    )
