"""The request a log line was written for: its id and tenant, added to every line logged while answering it.

The edge marks the request it is answering (`answering`) for every request but a page-cache hit, which logs
nothing else; asyncio runs each request in its own task, with its own copy of the context, so a line logged
anywhere below it (a template that fails, a tier that times out, uvicorn's own "Exception in ASGI application")
names the same request id as the access log's line and the response's X-Request-Id.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenantedge.telemetry.requests import Exchange

_ANSWERING: ContextVar[Exchange | None] = ContextVar("tenantedge_request", default=None)


def answering(exchange: Exchange) -> None:
    """Mark `exchange` as the request this task answers."""
    _ANSWERING.set(exchange)


class RequestContext(logging.Filter):
    """Sets `%(request)s` on each record: ` [request <id> tenant <id>]` while a request is answered, else empty."""

    def filter(self, record: logging.LogRecord) -> bool:
        exchange = _ANSWERING.get()
        record.request = (
            f" [request {exchange.request_id().decode()} tenant {exchange.tenant}]" if exchange is not None else ""
        )
        return True
