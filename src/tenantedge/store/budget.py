"""How long one lookup may still wait for each tier: a hung tier costs it one timeout in all, not one per call.

The budget rides in a context variable, so the single-flight fetches a lookup starts (tasks copy the context)
spend from the lookup's own budget. Outside a lookup (probes, admin writes, write-backs) each call has its
whole timeout. The budget also notes whether a stale copy answered any part of the lookup, for the edge to
count the response as stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar
from typing import TypeVar

from tenantedge.errors import BackendError, TierRefused
from tenantedge.store.breaker import CircuitBreaker

T = TypeVar("T")


class WaitBudget:
    """Seconds spent waiting so far, per tier; and whether a stale copy answered part of the lookup."""

    __slots__ = ("_spent", "stale")

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}
        self.stale = False

    def left(self, tier: str, timeout: float) -> float:
        return timeout - self._spent.get(tier, 0.0)

    def spend(self, tier: str, seconds: float) -> None:
        self._spent[tier] = self._spent.get(tier, 0.0) + seconds


_current: ContextVar[WaitBudget | None] = ContextVar("tenantedge_wait_budget", default=None)


@contextlib.contextmanager
def one_lookup() -> Iterator[None]:
    """Tier calls made inside share one budget; inside another lookup, they share that lookup's budget."""
    if _current.get() is not None:
        yield
        return
    token = _current.set(WaitBudget())
    try:
        yield
    finally:
        _current.reset(token)


def served_stale() -> None:
    """A stale copy answered part of the current lookup (outside one, nobody asks)."""
    budget = _current.get()
    if budget is not None:
        budget.stale = True


def lookup_was_stale() -> bool:
    """Whether a stale copy has answered part of the current lookup so far (a context variable read: no
    context manager on the way to a cached page)."""
    budget = _current.get()
    return budget is not None and budget.stale


@contextlib.contextmanager
def tier_wait(tier: str, timeout: float) -> Iterator[float]:
    """The time a call to `tier` may wait: its timeout, less what this lookup has waited for it already (zero or
    less: no more waiting). The time spent inside is charged to the lookup."""
    budget = _current.get()
    if budget is None:
        yield timeout
        return
    started = time.monotonic()
    try:
        yield budget.left(tier, timeout)
    finally:
        budget.spend(tier, time.monotonic() - started)


async def guarded_call(
    operation: Awaitable[T],
    *,
    tier: str,
    label: str,
    wait: float,
    breaker: CircuitBreaker,
    timeouts: tuple[type[BaseException], ...],
    failures: tuple[type[BaseException], ...],
) -> T:
    """One call to a tier (`tier` names it in errors, `label` in prose), through its breaker, waiting at most
    `wait` seconds less what this lookup has waited for the tier already. A timeout opens the breaker at once;
    other `failures` count towards it. Every failure is a BackendError; a call not made, a TierRefused."""
    with tier_wait(tier, wait) as allowed:
        # The lookup's budget is asked first: a call it refuses must not use up the breaker's half-open trial.
        if allowed <= 0 or not breaker.allow():
            if asyncio.iscoroutine(operation):
                operation.close()
            if allowed <= 0:
                raise TierRefused(f"{tier}: this lookup has waited {wait} s for {label} already")
            raise TierRefused(f"{tier}: circuit open after repeated failures")
        try:
            result = await asyncio.wait_for(operation, allowed)
        except timeouts as e:
            breaker.timed_out()
            raise BackendError(f"{tier}: no answer within {allowed:.2f} s: {type(e).__name__}: {e}") from e
        except failures as e:
            breaker.failed()
            raise BackendError(f"{tier}: {type(e).__name__}: {e}") from e
    breaker.succeeded()
    return result
