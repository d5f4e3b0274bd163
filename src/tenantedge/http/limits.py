"""What one client may hold of a worker: the size of a request head, the time to send it, and a connection slot.

The serving protocol (`tenantedge.http.server`) enforces these; this module holds the values, the fixed
refusals it writes, and the worker's bookkeeping of connections that wait for a request.
"""

from __future__ import annotations

import logging
import resource
from asyncio import BaseTransport
from dataclasses import dataclass
from http import HTTPStatus

log = logging.getLogger("tenantedge.http")

# Descriptors a worker needs besides its clients: Redis, PostgreSQL and S3 pools, log and template files.
RESERVED_FILES = 256


@dataclass(frozen=True, slots=True)
class HttpLimits:
    # The request target (URL) in bytes; past it, 414.
    max_url_bytes: int = 8192
    # The whole head (request line, header lines and their line ends) in bytes; past it, 431.
    max_header_bytes: int = 16384
    max_headers: int = 100
    # A complete head within this many seconds of connecting, else 408 (or a quiet close if nothing came). On a
    # kept-alive connection it counts from the previous response, and is no shorter than the keep-alive timeout.
    header_timeout: float = 10.0
    # Connections per worker; past it, the oldest one waiting for a request is closed to make room, or,
    # when every connection is busy, the new one gets a 503.
    max_connections: int = 10_000


def connection_cap(wanted: int) -> int:
    """Raise this process's open-file limit to its hard limit; `wanted`, lowered to the room that leaves.

    Worker processes inherit the raised limit. Past the cap connections are refused, so a worker never runs
    out of descriptors, which would leave every tenant unanswered.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # an infinite hard limit is refused where the kernel has its own ceiling
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_FILES))


def refusal(status: HTTPStatus, server_headers: bytes = b"") -> bytes:
    """A whole response that ends the connection, with a short fixed body that echoes nothing of the request."""
    body = f"{status.phrase}\n".encode()
    return b"".join(
        (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode(),
            server_headers,
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"retry-after: 1\r\n" if status is HTTPStatus.SERVICE_UNAVAILABLE else b"",
            b"connection: close\r\n\r\n",
            body,
        )
    )


class ConnectionSlots:
    """A worker's connections that wait for a request, oldest first, to be closed when a new one needs the room.

    Reaching the cap is logged once, and being well below it again once more: never a line per connection.
    """

    def __init__(self) -> None:
        self.waiting: dict[BaseTransport, None] = {}
        self.at_cap = False
        self.closed = self.refused = 0

    def make_room(self, open_connections: int, cap: int) -> bool:
        """Close the connection that has waited longest; False when none waits (every one is busy)."""
        if not self.at_cap:
            self.at_cap = True
            log.warning(
                "%d connections open, past this worker's cap (TENANTEDGE_MAX_CONNECTIONS=%d): for each new one "
                "the longest idle one is closed, or, while none is idle, the new one gets a 503",
                open_connections,
                cap,
            )
        if not self.waiting:
            self.refused += 1
            return False
        oldest = next(iter(self.waiting))
        del self.waiting[oldest]
        oldest.close()
        self.closed += 1
        return True

    def below_cap(self) -> None:
        self.at_cap = False
        log.info(
            "below the connection cap again: %d idle connections were closed to make room, %d new ones refused",
            self.closed,
            self.refused,
        )
        self.closed = self.refused = 0
