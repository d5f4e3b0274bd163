"""The tiered store: L1 in this process, L2 Redis shared by every instance, L3 the origin (S3 or tenants.json).

Reads go L1 → L2 → L3 and promote on the way back. One fetch per key is in flight at a time (single flight);
misses are remembered briefly (negative caching); an entry past its TTL is refreshed, and served stale while
the tiers that would refresh it are down, for up to `stale_if_error` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Any, Generic, Protocol, TypeVar

import orjson
from cachetools import LRUCache

from tenantedge.clock import Clock
from tenantedge.errors import BackendError, DocumentError, StoreUnavailable, TierRefused
from tenantedge.hosts import MATCH_WILDCARD, HostMatch
from tenantedge.invalidation import EVERYTHING, Change, ChangeKind, change_of_key
from tenantedge.sections import SectionRegistry
from tenantedge.store.base import Found, KnownPage
from tenantedge.store.breaker import BreakerState
from tenantedge.store.budget import one_lookup, served_stale
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, decode_domain, domain_candidates
from tenantedge.telemetry.figures import Figure, Labelled
from tenantedge.telemetry.timings import Timings
from tenantedge.tenants import Tenant, parse_tenant

log = logging.getLogger("tenantedge.store")


class TierLabel(enum.Enum):
    """A tier as the metrics name it: L2 is Redis, L3 the origin (S3 or tenants.json)."""

    REDIS = "redis"
    ORIGIN = "origin"


T = TypeVar("T")
R = TypeVar("R")
WRITE_BACKS = 64  # promotions into L2 pending at once; past that one is skipped, and the next read fills it


class DocumentTier(Protocol):
    """A tier that stores JSON documents by key: Redis, S3, or tenants.json (read-only)."""

    name: str

    @property
    def breaker_state(self) -> BreakerState:
        """Its circuit breaker's state (a tier with none is always closed)."""
        ...

    async def get(self, key: DocKey) -> bytes | None:
        """The document, or None when the tier has none; BackendError when it cannot tell."""
        ...

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: DocKey) -> None: ...

    async def probe(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class Notifications(Protocol):
    """A shared tier that reports the keys others change in it (Redis keyspace notifications)."""

    async def watch(self, on_change: Callable[[DocKey], None], on_connect: Callable[[], None]) -> None:
        """Report changed keys (first `on_connect` on every (re)connection), until cancelled."""
        ...


@dataclass(frozen=True, slots=True)
class TierSettings:
    l1_tenants: int = 2_000
    l1_domains: int = 20_000
    l1_negative: int = 10_000
    ttl: float = 60.0
    negative_ttl: float = 5.0
    stale_if_error: float = 86_400.0


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T | None  # None: known to be absent
    fetched: float
    source: bytes = b""  # hash of the document it was read from: an unchanged refresh skips parsing


class _TierCache(Generic[T]):
    """One kind of document held in L1: its entries, the fetches in flight for it, and how its bytes decode."""

    __slots__ = ("decode", "entries", "flights", "keep", "kind")

    def __init__(
        self,
        kind: str,
        size: int,
        decode: Callable[[str, bytes, str], T],
        keep: Callable[[str, _Entry[T], int], None],
    ) -> None:
        self.kind = kind
        self.entries: LRUCache[str, _Entry[T]] = LRUCache(size)
        self.flights: dict[str, asyncio.Future[tuple[T | None, bool]]] = {}  # (value, whether stale)
        self.decode = decode  # (name, document, where it came from) -> value; BackendError or DocumentError
        self.keep = keep  # holds a fetched entry, unless an invalidation since that epoch says otherwise


class TieredStore:
    """A TenantStore over L1 memory, an optional L2 cache tier and an origin tier; it also tells page keys
    (PageKeys), since it holds more domains and digests than tenant documents."""

    def __init__(
        self,
        registry: SectionRegistry,
        origin: DocumentTier,
        clock: Clock,
        *,
        cache: DocumentTier | None = None,
        notifications: Notifications | None = None,
        settings: TierSettings = TierSettings(),
    ) -> None:
        self._registry = registry
        self.origin = origin
        self.cache = cache
        self._notifications = notifications
        self._clock = clock
        self._settings = settings
        self._tenants = _TierCache(TENANT, settings.l1_tenants, self._parse_tenant, self._keep_tenant)
        self._domains = _TierCache(DOMAIN, settings.l1_domains, decode_domain, self._keep_domain)
        # Misses live apart, in their own bound, so a flood of made-up hosts cannot push out real entries.
        self._absent: LRUCache[DocKey, float] = LRUCache(settings.l1_negative)
        # Tenant id -> digest, for every tenant seen (as many as domains): a page-cache hit needs only this
        # and the domain entry, so tenants pushed out of the smaller tenant LRU still serve cached pages.
        self._digests: LRUCache[str, _Entry[str]] = LRUCache(settings.l1_domains)
        self._digest_flights: dict[str, asyncio.Future[tuple[str | None, bool]]] = {}
        # Per tenant: the lowest version a fill may store (raised by invalidations); per document, a counter
        # that tells a fill started before an invalidation not to store what it fetched.
        self._floor: dict[str, int] = {}
        self._epoch: dict[DocKey, int] = {}
        # Documents being served stale: each is logged once per outage, not once per request.
        self._stale_logged: set[DocKey] = set()
        # Promotions into L2, running off the request path; held here so none is collected while it runs.
        self._write_backs: set[asyncio.Task[None]] = set()
        # Where reads were answered, for /_edge/metrics and the bench.
        self.counts = {"l1": 0, "l2": 0, "origin": 0, "absent": 0, "stale": 0}
        # How long each read that reached Redis or the origin took, failures and timeouts included.
        self.reads = Timings(
            "tenantedge_store_read_duration_seconds",
            "Tenant store reads that reached a tier, by tier, failed ones included.",
            label="tier",
            max_labels=len(TierLabel),
        )

    # -- the hot path: memory only --------------------------------------------------------------------------

    def peek_page(self, host: str) -> KnownPage | None:
        now = self._clock.now()
        domain = self._domains.entries.get(host)
        if domain is None or domain.value is None or now - domain.fetched >= self._settings.ttl:
            return None
        digest = self._digests.get(domain.value.tenant_id)
        if digest is None or digest.value is None or now - digest.fetched >= self._settings.ttl:
            return None
        # Good until the earlier of its two entries expires.
        return KnownPage(domain.value, digest.value, min(domain.fetched, digest.fetched) + self._settings.ttl)

    def peek(self, host: str) -> Found | None:
        domain = self._domains.entries.get(host)
        now = self._clock.now()
        if domain is None or domain.value is None or now - domain.fetched >= self._settings.ttl:
            return None
        tenant = self._tenants.entries.get(domain.value.tenant_id)
        if tenant is None or tenant.value is None or now - tenant.fetched >= self._settings.ttl:
            return None
        return domain.value, tenant.value

    # -- the slow path: a lookup waits for a hung tier one timeout in all, however many documents it reads --

    async def resolve(self, host: str) -> Found | None:
        with one_lookup():
            match = await self._match(host)
            if match is None:
                return None
            tenant = await self.get_tenant(match.tenant_id)
        if tenant is None:
            log.warning("domain %s points to tenant %r, which does not exist", match.pattern, match.tenant_id)
            return None
        return match, tenant

    async def page_key(self, host: str) -> KnownPage | None:
        """What `peek_page` gives, from every tier. A stale key is renewed from the document's bytes alone when
        they have not changed, so a tenant pushed out of memory is not parsed again just to find its pages."""
        with one_lookup():
            match = await self._match(host)
            if match is None:
                return None
            digest, stale = await _single_flight(self._digest_flights, match.tenant_id, self._renew_digest)
        if stale:
            served_stale()
        if digest is None:
            return None
        # A key served from a stale copy (its tiers down) holds for no time: it must be asked for again.
        return self.peek_page(host) or KnownPage(match, digest, self._clock.now())

    async def _renew_digest(self, tenant_id: str) -> tuple[str | None, bool]:
        """The tenant's digest, and whether it comes from a stale copy."""
        entry = self._digests.get(tenant_id)
        now = self._clock.now()
        if entry is not None and now - entry.fetched < self._settings.ttl:
            return entry.value, False
        if entry is not None and entry.source and tenant_id not in self._tenants.flights:
            epoch = self._epoch.get((TENANT, tenant_id), 0)
            try:
                data, where = await self._read_through((TENANT, tenant_id))
            except BackendError:
                data = None
            if data is not None:
                source = hashlib.blake2b(data, digest_size=16).digest()
                if source == entry.source:
                    entry.fetched = now
                    return entry.value, False
                # Changed: parse the bytes just read rather than reading them again.
                with contextlib.suppress(BackendError, DocumentError):  # the full read path decides on stale
                    kept = self._keep(self._tenants, tenant_id, data, where, None, source, epoch)
                    return None if kept is None else kept.digest, False
        # New, or its tiers failed: the full read path decides.
        read = await self._read(self._tenants, tenant_id)
        tenant, stale = read
        return None if tenant is None else tenant.digest, stale

    async def _match(self, host: str) -> HostMatch | None:
        for pattern in domain_candidates(host):
            match = await self._load(self._domains, pattern)
            if match is None:
                continue
            if match.rule == MATCH_WILDCARD and pattern != host:
                # Remember the host itself too, so the next request for it is a peek.
                self._domains.entries[host] = _Entry(match, self._clock.now())
            return match
        return None

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        with one_lookup():
            return await self._load(self._tenants, tenant_id)

    def invalidate(self, tenant_id: str, version: int | None = None) -> None:
        """Forget a tenant (and the domains that pointed to it); a fill in flight will not put an older copy back."""
        self._tenants.entries.pop(tenant_id, None)
        self._digests.pop(tenant_id, None)
        key = (TENANT, tenant_id)
        self._absent.pop(key, None)
        self._epoch[key] = self._epoch.get(key, 0) + 1
        if version is not None:
            self._floor[tenant_id] = max(self._floor.get(tenant_id, 0), version)
        domains = self._domains.entries
        for host in [host for host, entry in domains.items() if entry.value and entry.value.tenant_id == tenant_id]:
            domains.pop(host, None)

    def changed(self, key: DocKey) -> None:
        """A document changed in a shared tier: forget our copy of it."""
        kind, name = key
        if kind == TENANT:
            self.invalidate(name)
        else:
            self._domains.entries.pop(name, None)
            self._absent.pop(key, None)

    def metrics(self) -> dict[str, Figure]:
        found: dict[str, Figure] = {
            f"tenantedge_store_reads_{where}_total": ("counter", f"Store reads answered by {what}.", count)
            for (where, count), what in zip(
                self.counts.items(),
                ("memory (L1)", "Redis (L2)", "the origin (L3)", "a remembered miss", "a stale copy"),
                strict=True,
            )
        }
        found["tenantedge_store_l1_tenants"] = ("gauge", "Tenants held in memory.", len(self._tenants.entries))
        tiers = [(TierLabel.ORIGIN, self.origin)]
        if self.cache is not None:
            tiers.append((TierLabel.REDIS, self.cache))
        not_closed = {label.value: float(tier.breaker_state is not BreakerState.CLOSED) for label, tier in tiers}
        found["tenantedge_store_breaker_open"] = (
            "gauge",
            "Workers whose circuit breaker for the tier is not closed.",
            Labelled("tier", not_closed),
        )
        return found

    def forget(self, change: Change) -> None:
        if change.kind is ChangeKind.DOCUMENT:
            self.invalidate(change.tenant, change.version)
            self.forget_absent()  # a new tenant's domains were unknown a moment ago
        elif change.kind is ChangeKind.HOST:
            self.changed((DOMAIN, change.host))
        elif change.kind is ChangeKind.EVERYTHING:
            self.clear()

    async def follow(self, apply: Callable[[Change], None]) -> None:
        if self._notifications is not None:
            await self._notifications.watch(lambda key: apply(change_of_key(key)), lambda: apply(EVERYTHING))

    def forget_absent(self) -> None:
        """Forget every remembered miss (a tenant was created: hosts unknown a moment ago may now exist)."""
        self._absent.clear()

    def clear(self) -> None:
        """Trust nothing held in memory (after a reconnect, when events may have been missed).

        Every entry is read again before it is used, but kept as the stale copy to serve if the tiers that
        would refresh it fail: the reconnect that calls this often follows an outage that is not over yet.
        """
        expired = self._clock.now() - self._settings.ttl
        _expire(self._tenants.entries, expired)
        _expire(self._digests, expired)
        _expire(self._domains.entries, expired)
        self._absent.clear()

    async def probe(self) -> dict[str, Any]:
        held = {"tenants": len(self._tenants.entries), "domains": len(self._domains.entries)}
        tiers: dict[str, Any] = {"l1": {"state": "up", **held}}
        if self.cache is not None:
            tiers[self.cache.name] = await self.cache.probe()
        tiers[self.origin.name] = await self.origin.probe()
        return tiers

    async def drain(self) -> None:
        """Wait until the write-backs into L2 started so far have landed or failed (each within its tier's timeout)."""
        while self._write_backs:
            await asyncio.wait(list(self._write_backs))

    async def close(self) -> None:
        # Write-backs are let finish, not cancelled: each ends within its tier's timeout, and redis-py may turn
        # a cancelled command into an exception that nobody retrieves.
        await self.drain()
        for tier in (self.cache, self.origin):
            if tier is not None:
                await tier.close()

    async def _load(self, cache: _TierCache[T], name: str) -> T | None:
        """The document's value from the first tier that has it; a stale copy is noted in the caller's lookup."""
        read = await self._read(cache, name)
        value, stale = read
        if stale:
            served_stale()
        return value

    async def _read(self, cache: _TierCache[T], name: str) -> tuple[T | None, bool]:
        entry = cache.entries.get(name)
        now = self._clock.now()
        if entry is not None and now - entry.fetched < self._settings.ttl:
            self.counts["l1"] += 1
            return entry.value, False
        key = (cache.kind, name)
        absent_since = self._absent.get(key)
        if absent_since is not None and now - absent_since < self._settings.negative_ttl:
            self.counts["absent"] += 1
            return None, False
        # Each waiter of a shared fetch is told whether it was stale: its own lookup notes it, not only the first's.
        return await _single_flight(cache.flights, name, lambda name: self._fetch(cache, name, entry))

    async def _fetch(self, cache: _TierCache[T], name: str, stale: _Entry[T] | None) -> tuple[T | None, bool]:
        epoch = self._epoch.get((cache.kind, name), 0)
        try:
            data, where = await self._read_through((cache.kind, name))
            source = hashlib.blake2b(data, digest_size=16).digest() if data is not None else b""
            return self._keep(cache, name, data, where, stale, source, epoch), False
        except (BackendError, DocumentError) as e:
            if (
                stale is not None
                and self._clock.now() - stale.fetched < self._settings.ttl + self._settings.stale_if_error
            ):
                self.counts["stale"] += 1
                self._log_stale((cache.kind, name), stale.fetched, e)
                return stale.value, True
            raise StoreUnavailable(f"{cache.kind} {name}: no tier could answer: {e}") from e

    def _log_stale(self, key: DocKey, fetched: float, error: Exception) -> None:
        """Once per document per outage: the mark goes when the document is read again."""
        if key in self._stale_logged:
            return
        if len(self._stale_logged) >= self._settings.l1_domains:
            self._stale_logged.clear()  # bounded like the entries it names: at worst a line is repeated
        self._stale_logged.add(key)
        age = self._clock.now() - fetched
        log.warning("%s %s: serving the copy from %.0f s ago until it can be read again: %s", *key, age, error)

    def _keep(
        self,
        cache: _TierCache[T],
        name: str,
        data: bytes | None,
        where: str,
        stale: _Entry[T] | None,
        source: bytes,
        epoch: int,
    ) -> T | None:
        """Decode what a tier returned and hold it in L1, unless an invalidation raced the read."""
        if data is None:
            value = None
        elif stale is not None and stale.value is not None and stale.source == source:
            value = stale.value  # the same document as before: keep what was parsed from it
        else:
            value = cache.decode(name, data, f"{where}:{cache.kind}:{name}")
        key = (cache.kind, name)
        if value is None:
            self._absent[key] = self._clock.now()
            return None
        cache.keep(name, _Entry(value, self._clock.now(), source), epoch)
        return value

    def _keep_tenant(self, tenant_id: str, entry: _Entry[Tenant], epoch: int) -> None:
        tenant = entry.value
        key = (TENANT, tenant_id)
        if tenant is None or self._epoch.get(key, 0) != epoch or tenant.version < self._floor.get(tenant_id, 0):
            return  # invalidated while we fetched: use it for this request, keep nothing
        self._tenants.entries[tenant_id] = entry
        self._digests[tenant_id] = _Entry(tenant.digest, entry.fetched, entry.source)
        self._absent.pop(key, None)
        self._stale_logged.discard(key)

    def _keep_domain(self, pattern: str, entry: _Entry[HostMatch], epoch: int) -> None:
        key = (DOMAIN, pattern)
        self._domains.entries[pattern] = entry
        self._absent.pop(key, None)
        self._stale_logged.discard(key)

    async def _read_through(self, key: DocKey) -> tuple[bytes | None, str]:
        """L2, then the origin; what the origin has is promoted into L2 (in the background). A failing L2 is skipped.

        An L2 copy is trusted for its own TTL: an edit made in the origin directly shows within the L2 TTL
        plus the L1 TTL (`tenantedge sync` and `kv` write L2 too, so theirs show within the L1 TTL).
        Bounding origin edits by the L1 TTL alone would send every refresh to the origin, which at 10,000
        tenants costs more than serving them.
        """
        if self.cache is not None:
            try:
                data = await self._timed_get(self.cache, key, TierLabel.REDIS)
            except BackendError as e:
                log.debug("%s: %s; reading the origin", key, e)
            else:
                if data is not None:
                    self.counts["l2"] += 1
                    return data, self.cache.name
        self.counts["origin"] += 1
        data = await self._timed_get(self.origin, key, TierLabel.ORIGIN)
        if data is not None and self.cache is not None:
            self._write_back(self.cache, key, data)
        return data, self.origin.name

    async def _timed_get(self, tier: DocumentTier, key: DocKey, label: TierLabel) -> bytes | None:
        """`tier.get(key)`, timed when the tier was asked: a refusal costs no time and would flatter the figures."""
        started = perf_counter_ns()
        asked = True
        try:
            return await tier.get(key)
        except TierRefused:
            asked = False
            raise
        finally:
            if asked:
                self.reads.observe_ns(perf_counter_ns() - started, label.value)

    def _write_back(self, cache: DocumentTier, key: DocKey, data: bytes) -> None:
        """Promote what the origin returned into L2 off the request path, which has its answer already."""
        if len(self._write_backs) >= WRITE_BACKS:
            log.debug("%s: %d write-backs pending; not filling %s", key, len(self._write_backs), cache.name)
            return
        epoch = self._epoch.get(key, 0)
        # An empty context: the write is not charged to the budget of the lookup that read the document.
        fill = self._fill(cache, key, data, epoch)
        task = asyncio.get_running_loop().create_task(fill, context=contextvars.Context())
        self._write_backs.add(task)
        task.add_done_callback(self._write_backs.discard)

    async def _fill(self, cache: DocumentTier, key: DocKey, data: bytes, epoch: int) -> None:
        if self._epoch.get(key, 0) != epoch:
            return  # invalidated since the read: L2 may hold the newer copy a writer put there
        try:
            await cache.put(key, data)
        except BackendError as e:
            log.debug("%s: could not fill %s: %s", key, cache.name, e)

    def _parse_tenant(self, tenant_id: str, data: bytes, source: str) -> Tenant:
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise BackendError(f"{source}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
        return parse_tenant(tenant_id, raw, self._registry, source=source, limits=None)  # as published


async def _single_flight(flights: dict[str, asyncio.Future[R]], name: str, fetch: Callable[[str], Awaitable[R]]) -> R:
    """What `fetch(name)` returns, fetched once however many callers ask while it is in flight."""
    flight = flights.get(name)
    if flight is None:
        flight = asyncio.ensure_future(fetch(name))
        flights[name] = flight
        flight.add_done_callback(lambda done: _landed(flights, name, done))
    # Shielded: one caller giving up must not cancel the fetch the others are waiting for.
    return await asyncio.shield(flight)


def _landed(flights: dict[str, asyncio.Future[R]], name: str, flight: asyncio.Future[R]) -> None:
    flights.pop(name, None)
    if not flight.cancelled():
        flight.exception()  # every waiter may have given up: the error is theirs, not the event loop's


def _expire(entries: LRUCache[str, _Entry[T]], before: float) -> None:
    for entry in entries.values():
        entry.fetched = min(entry.fetched, before)
