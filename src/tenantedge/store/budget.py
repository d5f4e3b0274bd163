"""How long one lookup may still wait for each tier: a hung tier costs it one timeout in all, not one per call.

The budget rides in a context variable, so the single-flight fetches a lookup starts (tasks copy the context)
spend from the lookup's own budget. Outside a lookup (probes, admin writes, write-backs) each call has its
whole timeout.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar


class WaitBudget:
    """Seconds spent waiting so far, per tier."""

    __slots__ = ("_spent",)

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

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
