"""The circuit breaker on a fixed clock: when it opens, how long it stays open, and the one trial call after."""

from __future__ import annotations

from tenantedge.clock import ManualClock
from tenantedge.store.breaker import BreakerState, CircuitBreaker


def state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # read through a call: mypy would keep the state narrowed across clock.advance()


def test_opens_after_the_threshold_and_lets_one_trial_through_after_the_cooldown() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(clock, threshold=3, cooldown=2.0)
    for _ in range(2):
        breaker.failed()
        assert state(breaker) is BreakerState.CLOSED and breaker.allow()
    breaker.failed()
    assert state(breaker) is BreakerState.OPEN and not breaker.allow()
    clock.advance(2.0)
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow(), "one trial call at a time"
    breaker.failed()
    assert state(breaker) is BreakerState.OPEN, "a failed trial opens it again"
    clock.advance(2.0)
    assert breaker.allow()
    breaker.succeeded()
    assert state(breaker) is BreakerState.CLOSED and breaker.allow()


def test_states_read_as_their_names_in_probes() -> None:
    assert [member.value for member in BreakerState] == ["closed", "open", "half-open"]


def test_one_timeout_opens_it_at_once() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(clock, threshold=3, cooldown=2.0)
    breaker.failed()
    breaker.succeeded()
    breaker.timed_out()
    assert state(breaker) is BreakerState.OPEN, "a hung backend: the next calls would each wait as long"
    clock.advance(2.0)
    assert breaker.allow()
    breaker.timed_out()
    assert state(breaker) is BreakerState.OPEN and not breaker.allow()
