"""A circuit breaker: after repeated failures a backend is left alone for a while, then tried again once."""

from __future__ import annotations

import enum

from tenantedge.clock import Clock


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Closed: calls go through. Open (after `threshold` failures in a row, or one timeout): calls are refused
    without trying, for `cooldown` seconds. Then one trial call is let through (half-open): success closes,
    failure re-opens."""

    def __init__(self, clock: Clock, *, threshold: int = 3, cooldown: float = 5.0) -> None:
        self._clock = clock
        self._threshold = threshold
        self._cooldown = cooldown
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False
        self.tried = 0  # calls let through: what the backend was actually asked

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock.now() - self._opened_at >= self._cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a call may be tried now; in half-open, only one at a time."""
        state = self.state
        if state is BreakerState.HALF_OPEN and not self._trial:
            self._trial = True
        elif state is not BreakerState.CLOSED:
            return False
        self.tried += 1
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def failed(self) -> None:
        self._failures += 1
        self._trial = False
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at = self._clock.now()

    def timed_out(self) -> None:
        """A call ran out of time: the backend hangs, so open now rather than let the next calls wait as long."""
        self._failures = max(self._failures, self._threshold - 1)
        self.failed()
