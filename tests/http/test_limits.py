"""What one client may hold of a worker, tried on a real `tenantedge serve` over raw sockets."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect as connect_websocket
from websockets.exceptions import ConnectionClosed

from tests.server import Server

HOST = b"codersinflow.com"
TOKEN = "limits-" + "t" * 25
MiB = 1 << 20


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    # Short timeouts and a small WebSocket message keep the tests short; every other limit is at its default.
    env = {"TENANTEDGE_HEADER_TIMEOUT": "1", "TENANTEDGE_KEEP_ALIVE_TIMEOUT": "2", "TENANTEDGE_ADMIN_TOKEN": TOKEN}
    env |= {"TENANTEDGE_WS_MAX_MESSAGE_BYTES": "4096", "TENANTEDGE_WS_AUTH_TIMEOUT": "1"}
    running = Server(env=env)
    try:
        yield running
    finally:
        running.stop()


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=15)


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset after its answer ends the reading too."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def read_response(connection: socket.socket) -> bytes:
    """One whole response with a Content-Length, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def exchange(server: Server, raw: bytes) -> bytes:
    with connect(server) as connection:
        connection.sendall(raw)
        return read_all(connection)


def request(*lines: bytes, target: bytes = b"/") -> bytes:
    return b"\r\n".join([b"GET " + target + b" HTTP/1.1", b"Host: " + HOST, *lines, b"Connection: close"]) + b"\r\n\r\n"


HEADS = {
    "long url": (request(target=b"/" + b"a" * 8192), b"414"),
    "url at the limit": (request(target=b"/" + b"a" * 8191), b"404"),
    "long header": (request(b"X-Big: " + b"b" * 16384), b"431"),
    "long host": (b"GET / HTTP/1.1\r\nHost: " + b"h" * 20000 + b"\r\n\r\n", b"431"),
    "head just under 16 KiB": (request(*[b"X-%d: %s" % (n, b"v" * 150) for n in range(90)]), b"200"),
    "101 headers": (request(*[b"X-%d: v" % n for n in range(99)]), b"431"),
    "100 headers": (request(*[b"X-%d: v" % n for n in range(98)]), b"200"),
    "small head, big body": (
        b"POST / HTTP/1.1\r\nHost: codersinflow.com\r\nContent-Length: 300000\r\nConnection: close\r\n\r\n"
        + b"x" * 300_000,
        b"405",
    ),
}


@pytest.mark.parametrize(("raw", "status"), list(HEADS.values()), ids=list(HEADS))
def test_a_head_past_a_limit_is_refused_with_a_short_fixed_answer(server: Server, raw: bytes, status: bytes) -> None:
    answer = exchange(server, raw)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    if status in (b"414", b"431"):
        assert b"connection: close\r\n" in answer and len(answer) < 300, answer


def test_a_pipelined_head_past_the_limit_ends_the_connection_after_the_answer_before_it(server: Server) -> None:
    first = b"GET / HTTP/1.1\r\nHost: codersinflow.com\r\n\r\n"
    answer = exchange(server, first + b"GET / HTTP/1.1\r\nHost: codersinflow.com\r\nX: " + b"x" * 20000 + b"\r\n\r\n")
    # Refused while the first is answered, the second is dropped and the first says so; refused after, it gets 431.
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer[:300]
    second = rest[int(re.findall(rb"content-length: (\d+)", head)[0]) :]
    assert second.startswith(b"HTTP/1.1 431 ") if second else head.endswith(b"\r\nconnection: close"), answer[:300]


def test_an_invalid_request_is_answered_without_echoing_it(server: Server) -> None:
    answer = exchange(server, b"GET / HTTP/1.1\r\nHost: \x01" + b"h" * 10_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and len(answer) < 300, answer[:300]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_huge_heads_are_refused_at_once_and_memory_stays_bounded(server: Server) -> None:
    """Today's incident: 8 connections with 16 MiB of headers each took the worker to 1.31 GB."""
    for _ in range(3):
        assert server.get("codersinflow.com").status_code == 200
    baseline = rss_kb(server.process.pid)
    answers: dict[int, bytes] = {}

    def flood(number: int) -> None:
        with connect(server) as connection:
            start = b"GET / HTTP/1.1\r\nHost: " if number % 2 else b"GET / HTTP/1.1\r\nHost: x\r\nX-Flood: "
            sender = threading.Thread(target=_send_ignoring_resets, args=(connection, start + b"a" * (16 * MiB)))
            sender.start()
            answers[number] = read_all(connection)
            sender.join()

    started = time.monotonic()
    floods = [threading.Thread(target=flood, args=(number,)) for number in range(8)]
    for thread in floods:
        thread.start()
    for thread in floods:
        thread.join(timeout=60)
    assert time.monotonic() - started < 30
    assert sorted(answers) == list(range(8))
    for answer in answers.values():
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert rss_kb(server.process.pid) - baseline < 100 * 1024
    assert server.get("codersinflow.com").status_code == 200


def _send_ignoring_resets(connection: socket.socket, data: bytes) -> None:
    # The server answers and closes before reading it all: the point.
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        connection.sendall(data)


def test_slowloris_is_cut_off_at_the_header_timeout_while_others_are_served(server: Server) -> None:
    """A byte every 0.2 s never completes a head; each must be closed by the 1 s timeout, not kept by the bytes."""
    drip = b"GET / HTTP/1.1\r\nHost: codersinflow.com\r\nX-Slow: " + b"s" * 200
    lasted: dict[int, float] = {}
    answers: dict[int, bytes] = {}

    def slowloris(number: int) -> None:
        started = time.monotonic()
        with connect(server) as connection:
            connection.settimeout(0.2)
            for byte in drip:
                try:
                    connection.sendall(bytes([byte]))
                    if chunk := connection.recv(65536):
                        answers[number] = chunk
                    break  # answered, or closed
                except TimeoutError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    break
            lasted[number] = time.monotonic() - started

    threads = [threading.Thread(target=slowloris, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    assert server.get("codersinflow.com").status_code == 200  # others are served meanwhile
    for thread in threads:
        thread.join(timeout=60)
    assert len(lasted) == 20
    assert max(lasted.values()) < 10, lasted  # the drip alone would last 40 s
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers.values()), answers


def test_a_silent_connection_is_closed_at_the_header_timeout_without_an_answer(server: Server) -> None:
    with connect(server) as connection:
        started = time.monotonic()
        assert read_all(connection) == b""
        assert time.monotonic() - started < 10


def test_a_kept_alive_connection_is_closed_when_idle_or_slow(server: Server) -> None:
    first = b"GET / HTTP/1.1\r\nHost: codersinflow.com\r\n\r\n"
    with connect(server) as idle, connect(server) as slow:
        for connection in (idle, slow):
            connection.sendall(first)
            assert read_response(connection).startswith(b"HTTP/1.1 200 ")
        slow.sendall(b"GET / HTTP/1.1\r\n")  # a head begun after the response, never finished
        started = time.monotonic()
        assert read_all(slow).startswith(b"HTTP/1.1 408 ")
        assert read_all(idle) == b""  # the keep-alive timeout (2 s): closed with nothing said
        assert time.monotonic() - started < 15


@pytest.fixture
def capped() -> Iterator[Server]:
    # A header timeout longer than the test, so only the cap can be what closes connections.
    running = Server(env={"TENANTEDGE_MAX_CONNECTIONS": "50", "TENANTEDGE_HEADER_TIMEOUT": "60"})
    try:
        yield running
    finally:
        running.stop()


def open_files(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def still_open(connection: socket.socket) -> bool:
    """Nothing said and not closed by the server."""
    connection.setblocking(False)
    try:
        connection.recv(1)
    except BlockingIOError:
        return True
    except OSError:
        pass
    return False


def test_at_the_connection_cap_idle_connections_make_room_and_busy_ones_get_a_503(capped: Server) -> None:
    baseline = open_files(capped.process.pid)
    idle = [connect(capped) for _ in range(200)]
    try:
        with httpx.Client(timeout=10) as client:  # a new visitor is served at once, though 200 sockets sit idle
            response = client.get(capped.url, headers={"host": "codersinflow.com"})
        assert response.status_code == 200
        assert open_files(capped.process.pid) <= baseline + 55
        assert sum(still_open(connection) for connection in idle) <= 50

        busy = [connect(capped) for _ in range(60)]  # heads begun: not idle, so not closed to make room
        for connection in busy:
            connection.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.5)
        with connect(capped) as refused:
            refused.sendall(b"GET / HTTP/1.1\r\nHost: codersinflow.com\r\n\r\n")
            assert read_all(refused).startswith(b"HTTP/1.1 503 ")
        assert open_files(capped.process.pid) <= baseline + 55
        for connection in busy:
            connection.close()
    finally:
        for connection in idle:
            connection.close()
    deadline = time.monotonic() + 10
    while capped.get("codersinflow.com").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    log = capped.stop()
    assert log.count("past this worker's cap") == 1, log
    assert log.count("below the connection cap again") == 1, log


@pytest.mark.anyio
async def test_a_websocket_outlives_the_header_and_keep_alive_timeouts(server: Server) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    uri = f"ws://admin.localhost:{server.port}/ws"
    async with connect_websocket(uri, host="127.0.0.1", port=server.port, additional_headers=auth) as websocket:
        assert orjson.loads(await asyncio.wait_for(websocket.recv(), 10))["type"] == "hello"
        await asyncio.sleep(3.5)  # past both timeouts (1 s and 2 s), which are for HTTP requests only
        await asyncio.wait_for(await websocket.ping(), 5)


async def closing_code(server: Server, first: str | None) -> int | None:
    """How a WebSocket that sends no token header is closed after sending `first` (or nothing)."""
    uri = f"ws://admin.localhost:{server.port}/ws"
    async with connect_websocket(uri, host="127.0.0.1", port=server.port, max_size=None) as websocket:
        if first is not None:
            await websocket.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.anyio
async def test_a_websocket_message_past_the_cap_is_refused_before_any_token_is_checked(server: Server) -> None:
    # 1 MiB in the first message, where only a token belongs: 1009 (message too big), never buffered whole.
    assert await closing_code(server, orjson.dumps({"token": "x" * MiB}).decode()) == 1009
    assert await closing_code(server, orjson.dumps({"token": "x" * 100}).decode()) == 4401, "a small one is read"


@pytest.mark.anyio
async def test_a_websocket_that_sends_no_token_is_closed_at_the_auth_timeout(server: Server) -> None:
    assert await closing_code(server, None) == 4401
