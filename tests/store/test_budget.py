"""The wait budget of one lookup, against a real Redis that hangs (SIGSTOP): one timeout in all, not one per call."""

from __future__ import annotations

import time

import pytest

from tenantedge.clock import ManualClock
from tenantedge.errors import BackendError
from tenantedge.store.budget import one_lookup
from tenantedge.store.layout import TENANT
from tenantedge.store.redis import RedisTier
from tests.services import PrivateRedis

pytestmark = pytest.mark.anyio


async def test_a_lookup_waits_for_a_hung_redis_once_and_leaves_the_breaker_trial_to_the_next(
    clock: ManualClock, prefix: str
) -> None:
    timeout = 0.3
    private = PrivateRedis()
    cache = RedisTier(private.url, clock, prefix=prefix, timeout=timeout)
    try:
        private.pause()
        with one_lookup():
            with pytest.raises(BackendError):
                await cache.get((TENANT, "acme"))
            clock.advance(2)  # past the breaker's cooldown: it would let a trial call through now
            started = time.monotonic()
            with pytest.raises(BackendError) as refused:
                await cache.get((TENANT, "beta"))
            assert time.monotonic() - started < timeout / 2, "this lookup has had its wait"
            assert "waited" in str(refused.value)
        calls = cache.calls
        with pytest.raises(BackendError):
            await cache.get((TENANT, "beta"))  # the next lookup gets the breaker's trial call
        assert cache.calls == calls + 1
    finally:
        private.resume()
        await cache.close()
        private.stop()
