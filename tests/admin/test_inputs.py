"""Hostile inputs to the admin API and its WebSocket: every one is a 4xx naming what was wrong, never a 500.

Unicode digits such as '²' pass `str.isdigit()` and then crash `int()`; these are the places that once did.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
import pytest

from tenantedge.admin.live import BAD_REQUEST, UNAUTHORIZED
from tenantedge.http.edge import EdgeApp
from tests.admin.conftest import ADMIN_HOST, FULL_TOKEN, PEER, AdminClient, problem

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
