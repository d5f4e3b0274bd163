"""Sending whole responses from plain ASGI, with headers prepared as bytes once."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Send

Headers = Sequence[tuple[bytes, bytes]]

TEXT_TYPE = (b"content-type", b"text/plain; charset=utf-8")


async def send_response(send: Send, status: int, headers: Headers, body: bytes, *, head: bool = False) -> None:
    """Send a complete response; for HEAD the same headers, Content-Length included, and no body."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_text(send: Send, status: int, text: str, *, head: bool = False, extra: Headers = ()) -> None:
    """A short plain-text response, for errors that happen before any tenant is known."""
    headers = [TEXT_TYPE, (b"x-content-type-options", b"nosniff"), *extra]
    await send_response(send, status, headers, text.encode(), head=head)
