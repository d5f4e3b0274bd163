"""Hostile inputs to the admin API and its WebSocket: every one is a 4xx naming what was wrong, never a 500.

Unicode digits such as '²' pass `str.isdigit()` and then crash `int()`; these are the places that once did.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantedge.admin.live import BAD_REQUEST, UNAUTHORIZED
from tenantedge.admin.openapi import SCHEMAS
from tenantedge.admin.operations import OPERATIONS, Operation
from tenantedge.http.edge import EdgeApp
from tests.admin.conftest import (
    ADMIN_HOST,
    FULL_TOKEN,
    NO_BODY,
    PEER,
    AdminClient,
    Workdir,
    build_app,
    connect,
    problem,
)
from tests.conftest import running
from tests.database import fresh_database
from tests.media import images
from tests.server import copy_demo

pytestmark = pytest.mark.anyio
BASIC = "/api/tenants/basicsite"


def wire(value: str) -> bytes:
    """A header value as a client puts it on the wire: Latin-1 where it can ('²' is byte 0xB2), else UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


def names(body: dict[str, Any], field: str) -> bool:
    """Whether a problem names the field, in its detail or as the path of one of its issues."""
    paths = [issue["path"] for issue in body.get("issues") or []]
    under = (f"{field}[", f"{field}.")
    return field in body["detail"] or any(path == field or path.startswith(under) for path in paths)


@pytest.mark.parametrize(
    ("method", "path", "if_match", "status", "field"),
    [
        pytest.param("GET", "/api/tenants?limit=²", None, 400, "limit", id="tenants-limit"),
        pytest.param("GET", "/api/tenants?offset=³", None, 400, "offset", id="tenants-offset"),
        pytest.param("GET", "/api/tenants?limit=١٢", None, 400, "limit", id="tenants-limit-arabic-indic"),
        pytest.param("GET", f"{BASIC}/history?limit=²", None, 400, "limit", id="history-limit"),
        pytest.param("GET", f"{BASIC}/history/²", None, 400, "version", id="history-version"),
        pytest.param("GET", f"{BASIC}/history/{'9' * 5000}", None, 400, "version", id="history-huge-version"),
        pytest.param("GET", f"{BASIC}/diff?from=²&to=1", None, 400, "from", id="diff-from"),
        pytest.param("GET", f"{BASIC}/diff?from=1&to=²", None, 400, "to", id="diff-to"),
        pytest.param("DELETE", BASIC, '"²"', 412, "If-Match", id="if-match-superscript"),
        pytest.param("DELETE", BASIC, '"-1"', 412, "If-Match", id="if-match-negative"),
        pytest.param("DELETE", BASIC, f'"{"9" * 40}"', 412, "If-Match", id="if-match-huge"),
        pytest.param("DELETE", f"{BASIC}/pages/", '"\uff17"', 412, "If-Match", id="if-match-fullwidth"),
    ],
)
async def test_unicode_digits_and_huge_numbers_are_4xx_naming_the_field(
    client: AdminClient, method: str, path: str, if_match: str | None, status: int, field: str
) -> None:
    sent = [(b"host", ADMIN_HOST.encode()), (b"authorization", f"Bearer {FULL_TOKEN}".encode())]
    if if_match is not None:
        sent.append((b"if-match", wire(if_match)))
    body = problem(await client.http.request(method, path, headers=sent), status)
    assert names(body, field), body


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_a_page_path_longer_than_a_file_name_is_no_page_not_a_storage_error(
    client: AdminClient, method: str
) -> None:
    body = [{"type": "Hero"}] if method == "PUT" else None
    response = await client.api(method, f"{BASIC}/drafts/{'a' * 300}", body if body is not None else NO_BODY)
    assert "not a page path" in problem(response, 404)["detail"]


# -- the WebSocket -------------------------------------------------------------------------------------------


async def converse(
    app: EdgeApp, sent: list[dict[str, Any]], *, query: bytes = b"", authorization: str | None = None
) -> list[dict[str, Any]]:
    """Open /ws on the app as a client would, send `sent` after the handshake, and return what the app sent back
    until it closed the socket (or said hello, when this side hangs up); the app must not raise."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in [{"type": "websocket.connect"}, *sent]:
        inbox.put_nowait(message)
    replies: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        replies.append(dict(message))
        if message.get("type") == "websocket.send":  # the hello: enough, hang up
            inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})

    headers = [(b"host", ADMIN_HOST.encode())]
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/ws", "raw_path": b"/ws",
        "root_path": "", "query_string": query, "headers": headers, "client": (PEER, 40000),
        "server": ("127.0.0.1", 8000), "subprotocols": [],
    }  # fmt: skip
    await asyncio.wait_for(app(scope, inbox.get, send), 10)  # type: ignore[arg-type]
    return replies


def closed_with(replies: list[dict[str, Any]]) -> tuple[int, str]:
    assert replies and replies[-1]["type"] == "websocket.close", replies
    return replies[-1]["code"], replies[-1].get("reason") or ""


def text(value: object) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": json.dumps(value)}  # json: orjson refuses integers over 64 bits


@pytest.mark.parametrize(
    ("hello", "field"),
    [
        pytest.param({"since": "²"}, "since", id="since-superscript"),
        pytest.param({"since": "-1"}, "since", id="since-negative-text"),
        pytest.param({"since": -1}, "since", id="since-negative"),
        pytest.param({"since": 1.5}, "since", id="since-fraction"),
        pytest.param({"since": True}, "since", id="since-boolean"),
        pytest.param({"since": "9" * 5000}, "since", id="since-huge"),
        pytest.param({"since": 1 << 64}, "since", id="since-over-64-bits"),
        pytest.param({"tenants": 5}, "tenants", id="tenants-number"),
        pytest.param({"tenants": "basicsite"}, "tenants", id="tenants-text"),
        pytest.param({"tenants": [5]}, "tenants", id="tenants-list-of-numbers"),
        pytest.param({"tenants": ["Not An Id"]}, "tenants", id="tenants-bad-id"),
    ],
)
async def test_a_bad_first_message_gets_a_close_frame_naming_the_field(
    app: EdgeApp, hello: dict[str, Any], field: str
) -> None:
    code, reason = closed_with(await converse(app, [text({"token": FULL_TOKEN, **hello})]))
    assert code == BAD_REQUEST and reason.startswith(field + ":"), (code, reason)
    assert len(reason.encode()) <= 123  # what a close frame can carry


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(b"since=%C2%B2", id="since-superscript"),
        pytest.param(b"since=1.5", id="since-fraction"),
        pytest.param(b"tenant=Not%20An%20Id", id="tenant-bad-id"),
    ],
)
async def test_a_bad_query_gets_a_close_frame(app: EdgeApp, query: bytes) -> None:
    replies = await converse(app, [], query=query, authorization=f"Bearer {FULL_TOKEN}")
    assert closed_with(replies)[0] == BAD_REQUEST


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(text({"token": 5}), id="token-number"),
        pytest.param(text({"token": ["a"]}), id="token-list"),
        pytest.param(text([FULL_TOKEN]), id="not-an-object"),
        pytest.param({"type": "websocket.receive", "text": "{not json"}, id="not-json"),
        pytest.param({"type": "websocket.receive", "bytes": orjson.dumps({"token": 5})}, id="binary-frame"),
    ],
)
async def test_a_first_message_without_a_usable_token_is_unauthorized(app: EdgeApp, message: dict[str, Any]) -> None:
    assert closed_with(await converse(app, [message]))[0] == UNAUTHORIZED


@pytest.mark.parametrize(
    "hello",
    [
        pytest.param({"since": "0"}, id="since-text"),
        pytest.param({"since": 0}, id="since-number"),
        pytest.param({"tenants": ["basicsite"]}, id="tenants"),
        pytest.param({"tenants": [], "since": None}, id="empty-means-all"),
    ],
)
async def test_a_good_first_message_is_answered_with_hello(app: EdgeApp, hello: dict[str, Any]) -> None:
    replies = await converse(app, [text({"token": FULL_TOKEN, **hello})])
    assert replies[0]["type"] == "websocket.accept"
    assert orjson.loads(replies[1]["text"])["type"] == "hello"


# -- every input, hostile: a property ------------------------------------------------------------------------
# Each query parameter, header, path parameter and body field an operation reads, from the operations table and
# the OpenAPI document, gets hostile values while the rest of the request is one the API takes. The answer must
# never be a 5xx, and every 4xx must be a problem; a 400, 412 or 422 must name the input.

UNICODE_DIGITS = ["²", "³", "¹", "١٢", "\uff17", "\U0001d7d5", "߀", "৪", "Ⅻ", "½"]  # noqa: RUF001
ODD = ["", " ", "+1", "-1", "-0", "1_0", "0x1f", "1e3", "1.5", "NaN", "inf", "\t1", "1\n", "\x7f", "\u202e", "%00"]
ODD += ["../", "*", '""', '"1"x', 'W/"1"', '"1", "2"', "null", "[]", "{}", "true"]
HOSTILE_TEXT = st.one_of(
    st.sampled_from(UNICODE_DIGITS + ODD),
    st.integers(-(10**40), 10**40).map(str),
    st.floats().map(repr),
    st.integers(200, 20_000).map(lambda n: "9" * n),
    st.integers(200, 20_000).map(lambda n: "a" * n),
    st.text(max_size=30),
)
HOSTILE_JSON = st.one_of(
    HOSTILE_TEXT,
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(HOSTILE_TEXT, max_size=3),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=2),
)
# A header cannot carry CR, LF or NUL: no client can send them.
HOSTILE_HEADER = HOSTILE_TEXT.map(lambda value: value.translate({0: None, 10: None, 13: None}))
PROPERTY = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The rest of each request: one the API takes (tenant, page, version, post and asset exist; any version matches).
PATH_VALUES = {
    "tenant": "basicsite",
    "page": "",
    "version": "1",
    "slug": "a-post",
    "asset": "app.js",
    "asset_id": "0" * 64 + ".png",
    "plugin": "analytics-snippet",  # installed in the test environment (plugins/analytics-snippet)
    "rest": "settings",
}
BODIES: dict[str, Any] = {
    "SignIn": {"token": "not-a-token-at-all"},
    "Tenant": {"domains": ["basicsite.com", "basicsite.localhost"]},
    "TenantPatch": {"name": "Patched"},
    "PageValue": [{"type": "Hero"}],
    "Json": {"domains": ["basicsite.com"]},
    "Rollback": {"version": 1},
    "Post": {"slug": "a-post", "title": "A post"},
    "NewPost": {"slug": "another-post", "title": "Another post"},
    "ChangesBetween": {"from": {"name": "Before"}, "to": {"name": "After"}},
}
WHOLE_BODY = ""  # the input is the body itself, for bodies that are not objects of named fields
NEW_TENANTS = itertools.count(1)  # a tenant one request creates must not take the next one's id or domain


@dataclass(frozen=True, slots=True)
class Input:
    op: Operation
    where: str  # path, query, header or body
    name: str

    @property
    def id(self) -> str:
        return f"{self.op.handler}-{self.where}-{self.name or 'whole'}"


def body_fields(schema_name: str) -> list[str]:
    """The fields a body schema names (its own, those of its allOf, or its propertyNames), or the whole body."""
    schema = SCHEMAS[schema_name]
    parts = [SCHEMAS[part["$ref"].rsplit("/", 1)[1]] if "$ref" in part else part for part in schema.get("allOf", [])]
    fields = [
        name
        for part in [schema, *parts]
        for name, field in part.get("properties", {}).items()
        if not field.get("readOnly")
    ]
    fields += schema.get("propertyNames", {}).get("enum", [])
    return list(dict.fromkeys(fields)) or [WHOLE_BODY]


def every_input() -> list[Input]:
    found: list[Input] = []
    for op in OPERATIONS:
        found += [Input(op, "path", name) for name in re.findall(r"\{(\w+)\}", op.path)]
        found += [Input(op, "query", query.name) for query in op.query]
        found += [Input(op, "header", "If-Match")] if op.if_match else []
        found += [Input(op, "body", name) for name in body_fields(op.body)] if op.body is not None else []
    return found


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def database_url() -> AsyncIterator[str]:
    async with fresh_database() as urls:
        yield urls.app


@pytest.fixture
async def content_client(tmp_path: Path, database_url: str) -> AsyncIterator[AdminClient]:
    """An app of its own for each input (a write with If-Match * changes the tenants), with a real PostgreSQL
    for posts and a post to read and change."""
    copy_demo(tmp_path)
    (tmp_path / "admin-tokens.json").write_text('{"tokens": []}')
    app = build_app(Workdir(tmp_path), database_url=database_url)
    async with running(app), connect(app) as client:
        created = await client.api("POST", f"{BASIC}/posts", {"slug": "a-post", "title": "A post"})
        assert created.status_code in (201, 409), created.text
        yield client


async def send(client: AdminClient, target: Input, value: object) -> httpx.Response:
    op = target.op
    path_values = {
        name: quote(str(value) if (target.where, target.name) == ("path", name) else default, safe="")
        for name, default in PATH_VALUES.items()
    }
    url = re.sub(r"\{(\w+)\}", lambda found: path_values[found.group(1)], op.path)
    headers = [(b"host", ADMIN_HOST.encode()), (b"authorization", f"Bearer {FULL_TOKEN}".encode())]
    if op.if_match:
        headers.append((b"if-match", wire(str(value)) if target.where == "header" else b"*"))
    required = {query.name: "1" for query in op.query if query.bounds is not None and query.default is None}
    required |= {"filename": "logo.png"} if op.uploads else {}
    params = {**required, target.name: str(value)} if target.where == "query" else required
    content = None
    if op.uploads:
        content = images.png()
        headers.append((b"content-type", b"application/octet-stream"))
    if op.body is not None:
        fresh = f"hostile-{next(NEW_TENANTS)}"
        body = {"id": fresh, "domains": [f"{fresh}.example"]} if op.body == "NewTenant" else BODIES[op.body]
        if target.where == "body":
            body = value if target.name == WHOLE_BODY else {**body, target.name: value}
        content = json.dumps(body).encode()
        headers.append((b"content-type", b"application/json"))
    return await client.http.request(op.method, url, params=params, headers=headers, content=content)


@pytest.mark.parametrize("target", [pytest.param(target, id=target.id) for target in every_input()])
@PROPERTY
@given(data=st.data())
async def test_no_hostile_input_is_a_5xx_and_every_refusal_names_it(
    content_client: AdminClient, target: Input, data: st.DataObject
) -> None:
    strategy = {"header": HOSTILE_HEADER, "body": HOSTILE_JSON}.get(target.where, HOSTILE_TEXT)
    value = data.draw(strategy, label=target.name or "body")
    response = await send(content_client, target, value)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = problem(response, response.status_code)
        if response.status_code in (400, 412, 422) and target.name != WHOLE_BODY:
            assert names(body, target.name), body


@PROPERTY
@given(field=st.sampled_from(["since", "tenants"]), value=HOSTILE_JSON)
async def test_no_hostile_first_message_goes_without_a_close_frame(app: EdgeApp, field: str, value: object) -> None:
    replies = await converse(app, [text({"token": FULL_TOKEN, field: value})])
    if replies[-1]["type"] == "websocket.close":
        code, reason = closed_with(replies)
        assert code == BAD_REQUEST and reason.startswith(field + ":"), (code, reason)
    else:
        assert orjson.loads(replies[1]["text"])["type"] == "hello"
