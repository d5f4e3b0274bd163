"""The brake on guessing admin tokens: wrong tokens counted per client address and per token presented.

Only failures are counted, and only after the token was checked: a valid token is never refused because of
anyone's failures, so a guesser behind the same proxy cannot lock the admins out. Each failure counts against
two subjects, the client's address (an IPv6 client's /64, which one host commonly holds whole) and a hash of
the token it presented (never the token itself); once either has more than `limit` failures in the window, the
next wrong tokens get 429 with Retry-After instead of 401. The window is fixed: it starts with the first failure
and all counts restart when it ends. At most `subjects` counters are kept per window; past that, new subjects
share one, so a spray of addresses or tokens cannot grow memory (its wrong tokens are refused as a group).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
from typing import TYPE_CHECKING, Protocol

from starlette.requests import HTTPConnection

from tenantedge.clock import Clock
from tenantedge.store.breaker import CircuitBreaker

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("tenantedge.admin")

MAX_SUBJECTS = 10_000
OVERFLOW = "overflow"


class FailureLimiter(Protocol):
    async def failed(self, address: str, token: str | None) -> float:
        """Count a wrong token from this address; the seconds to wait when either is over budget, else 0."""
        ...

    async def close(self) -> None: ...


def peer(connection: HTTPConnection) -> str:
    """The address failures are counted against: the connection's peer (a proxy's clients share its address)."""
    return connection.client.host if connection.client else "-"


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))


def subjects(address: str, token: str | None) -> tuple[str, ...]:
    """What one failure counts against: the address, and the token presented (hashed), if any."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        client = address
    else:
        client = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    if not token:
        return (f"addr:{client}",)
    hashed = hashlib.blake2b(token.encode(), digest_size=16, person=b"tenantedge-fail").hexdigest()
    return f"addr:{client}", f"token:{hashed}"


class LocalFailures:
    """Failures counted in this worker: one window at a time, at most `subjects` counters in it."""

    def __init__(self, clock: Clock, *, limit: int = 10, window: float = 60.0, subjects: int = MAX_SUBJECTS) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._subjects = subjects
        self._started = 0.0
        self._counts: dict[str, int] = {}

    async def failed(self, address: str, token: str | None) -> float:
        return self.count(subjects(address, token))

    def count(self, counted: tuple[str, ...]) -> float:
        now = self._clock.now()
        if not self._counts or now - self._started >= self._window:
            self._counts.clear()
            self._started = now
        worst = 0
        for subject in counted:
            if subject not in self._counts and len(self._counts) >= self._subjects:
                subject = OVERFLOW
            self._counts[subject] = self._counts.get(subject, 0) + 1
            worst = max(worst, self._counts[subject])
        return self._window - (now - self._started) if worst > self._limit else 0.0

    async def close(self) -> None:
        return None


# One hash per window, shared by every worker: fields are subjects, it expires when the window ends.
# KEYS[1] the hash; ARGV[1] the window in ms, ARGV[2] most subjects, ARGV[3..] the subjects. Returns the
# counts, then the ms left in the window.
_COUNT = """
local counts = {}
for i = 3, #ARGV do
  local field = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], field) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then
    field = 'overflow'
  end
  counts[#counts + 1] = redis.call('HINCRBY', KEYS[1], field, 1)
end
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
counts[#counts + 1] = redis.call('PTTL', KEYS[1])
return counts
"""


class RedisFailures:
    """Failures counted in Redis, so every worker sees them; in this worker while Redis cannot answer, since an
    outage must neither lock the admins out nor turn the admin's refusals into errors."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        prefix: str = "te:",
        limit: int = 10,
        window: float = 60.0,
        subjects: int = MAX_SUBJECTS,
        timeout: float = 1.0,
    ) -> None:
        from redis.asyncio import Redis

        self._client: Redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._script = self._client.register_script(_COUNT)
        self._key = f"{prefix}authfail:counts"
        self._limit = limit
        self._window_ms = max(1, round(window * 1000))
        self._subjects = subjects
        self._local = LocalFailures(clock, limit=limit, window=window, subjects=subjects)
        self._breaker = CircuitBreaker(clock)

    async def failed(self, address: str, token: str | None) -> float:
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        counted = subjects(address, token)
        if self._breaker.allow():
            try:
                *counts, left = await self._script(keys=[self._key], args=[self._window_ms, self._subjects, *counted])
            except (RedisError, OSError) as e:
                if isinstance(e, RedisTimeoutError):
                    self._breaker.timed_out()  # a hung Redis: stop asking now rather than wait on every failure
                else:
                    self._breaker.failed()
                log.warning("admin sign-in limits: Redis did not answer (%s); counting in this worker", e)
            else:
                self._breaker.succeeded()
                return int(left) / 1000 if max(int(count) for count in counts) > self._limit else 0.0
        return self._local.count(counted)

    async def close(self) -> None:
        await self._client.aclose()
