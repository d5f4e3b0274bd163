"""L3, the origin: tenant and domain documents in S3. Every call has a timeout and goes through a circuit breaker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from tenantedge.clock import Clock
from tenantedge.errors import BackendError
from tenantedge.store.breaker import BreakerState, CircuitBreaker
from tenantedge.store.budget import guarded_call
from tenantedge.store.layout import FOLDERS, DocKey, s3_key

log = logging.getLogger("tenantedge.s3")
_MISSING = {"NoSuchKey", "404", "NotFound"}
_LOST_RACE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_NOT_IMPLEMENTED = {"NotImplemented", "501"}
# Requests one batch keeps in flight: a tenant's thousand domain documents in a sixteenth of the round trips'
# time, without a burst the endpoint would throttle.
PARALLEL = 16


class S3Tier:
    name = "s3"

    def __init__(
        self,
        endpoint: str | None,
        bucket: str,
        clock: Clock,
        *,
        prefix: str = "",
        timeout: float = 1.0,
        region: str = "us-east-1",
    ) -> None:
        self._endpoint = endpoint
        self._bucket = bucket
        self._prefix = prefix
        self._timeout = timeout
        self._region = region
        self._breaker = CircuitBreaker(clock, threshold=3, cooldown=2.0)
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._opening = asyncio.Lock()
        # Conditional writes (If-Match, If-None-Match) until the endpoint says it has none.
        self._conditional = True

    async def _s3(self) -> Any:
        # Opened on first use, not at start: the app must start even while S3 is down.
        async with self._opening:
            if self._client is None:
                config = Config(
                    connect_timeout=self._timeout,
                    read_timeout=self._timeout,
                    max_pool_connections=PARALLEL,
                    retries={"max_attempts": 1},
                    s3={"addressing_style": "path"},
                )
                session = aioboto3.Session(region_name=self._region)  # credentials: the usual AWS_* variables
                self._client = await self._stack.enter_async_context(
                    session.client("s3", endpoint_url=self._endpoint, config=config)
                )
        return self._client

    async def get(self, key: DocKey) -> bytes | None:
        tagged = await self.get_tagged(key)
        return None if tagged is None else tagged[0]

    async def get_tagged(self, key: DocKey) -> tuple[bytes, str] | None:
        """The object and its ETag, for a conditional `put_if` that must replace exactly this copy."""
        return await self._get_tagged(s3_key(self._prefix, key))

    async def _get_tagged(self, full_key: str) -> tuple[bytes, str] | None:
        async def fetch() -> tuple[bytes, str] | None:
            client = await self._s3()
            try:
                response = await client.get_object(Bucket=self._bucket, Key=full_key)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in _MISSING:
                    return None
                raise
            body: bytes = await response["Body"].read()
            return body, str(response["ETag"])

        result: tuple[bytes, str] | None = await self._call(fetch())
        return result

    async def put_if(self, key: DocKey, data: bytes, *, etag: str | None) -> bool:
        """Store only over the copy with this ETag, or only where none is (`etag=None`): S3's conditional
        writes (If-Match, If-None-Match), atomic in the bucket. False when another writer got there first."""
        return await self._put_if(s3_key(self._prefix, key), data, "application/json", etag)

    async def _put_if(self, full_key: str, data: bytes, content_type: str, etag: str | None) -> bool:
        async def store() -> bool:
            client = await self._s3()
            condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
            try:
                await client.put_object(
                    Bucket=self._bucket,
                    Key=full_key,
                    Body=data,
                    ContentType=content_type,
                    **(condition if self._conditional else {}),
                )
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code")
                # 412, or 409 where a conditional write raced another one still in flight (AWS).
                if code in _LOST_RACE:
                    return False
                if code not in _NOT_IMPLEMENTED or not self._conditional:
                    raise
                # An S3 without conditional writes: write as before, and say once what that leaves open.
                self._conditional = False
                log.warning(
                    "s3: this endpoint refuses conditional writes (%s); admin writes from machines that "
                    "share no Redis may overwrite each other: give them TENANTEDGE_REDIS_URL",
                    code,
                )
                return await store()
            return True

        stored: bool = await self._call(store())
        return stored

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None:
        async def store() -> None:
            client = await self._s3()
            await client.put_object(
                Bucket=self._bucket, Key=s3_key(self._prefix, key), Body=data, ContentType="application/json"
            )

        await self._call(store())

    async def delete(self, key: DocKey) -> None:
        async def remove() -> None:
            client = await self._s3()
            await client.delete_object(Bucket=self._bucket, Key=s3_key(self._prefix, key))

        await self._call(remove())

    async def get_many(self, keys: Iterable[DocKey]) -> dict[DocKey, bytes | None]:
        """Several objects (None: absent), PARALLEL requests at a time."""
        found: dict[DocKey, bytes | None] = {}

        async def get(key: DocKey) -> None:
            found[key] = await self.get(key)

        await _in_parallel(get, set(keys))
        return found

    async def put_many(self, documents: Mapping[DocKey, bytes]) -> None:
        """Store several objects, PARALLEL requests at a time; the first failure is raised once all are tried."""

        async def put(key: DocKey) -> None:
            await self.put(key, documents[key])

        await _in_parallel(put, documents)

    async def delete_many(self, keys: Iterable[DocKey]) -> None:
        await _in_parallel(self.delete, set(keys))

    async def names(self, kind: str, under: str = "") -> list[str]:
        """Every name of this kind stored (below `under`, a name prefix such as "{id}/"), from the bucket listing."""
        folder = f"{self._prefix}{FOLDERS[kind]}/"

        async def listing() -> list[str]:
            client = await self._s3()
            found: list[str] = []
            async for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=folder + under
            ):
                found += [item["Key"][len(folder) : -len(".json")] for item in page.get("Contents", [])]
            return found

        result: list[str] = await self._call(listing())
        return sorted(result)

    # -- objects by key (tenant assets), under the same client, breaker and timeouts ---------------------

    async def get_object(self, key: str) -> bytes | None:
        """The object at `key` (below the prefix) whole, or None."""
        opened = await self.open_object(key)
        if opened is None:
            return None
        body = bytearray()
        async for chunk in opened.chunks:
            body += chunk
        return bytes(body)

    async def get_object_tagged(self, key: str) -> tuple[bytes, str] | None:
        """The object at `key` (below the prefix) and its ETag, for `put_object_if`."""
        return await self._get_tagged(self._prefix + key)

    async def put_object_if(self, key: str, data: bytes, content_type: str, *, etag: str | None) -> bool:
        """`put_if` for an object by key: only over the copy with this ETag, or only where none is."""
        return await self._put_if(self._prefix + key, data, content_type, etag)

    async def open_object(self, key: str, first: int | None = None, last: int | None = None) -> ObjectStream | None:
        """The object at `key`, or bytes `first`..`last` of it, as a stream read as it is sent (None: absent).
        The call to open it has the timeout and the breaker; each read after that has the read timeout."""

        async def fetch() -> ObjectStream | None:
            client = await self._s3()
            extra = {"Range": f"bytes={first}-{last}"} if first is not None else {}
            try:
                response = await client.get_object(Bucket=self._bucket, Key=self._prefix + key, **extra)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in _MISSING:
                    return None
                raise
            body = response["Body"]
            return ObjectStream(int(response["ContentLength"]), _chunks(body), body.close)

        result: ObjectStream | None = await self._call(fetch())
        return result

    async def put_object(self, key: str, data: bytes, content_type: str) -> None:
        async def store() -> None:
            client = await self._s3()
            await client.put_object(Bucket=self._bucket, Key=self._prefix + key, Body=data, ContentType=content_type)

        await self._call(store())

    async def delete_object(self, key: str) -> None:
        async def remove() -> None:
            client = await self._s3()
            await client.delete_object(Bucket=self._bucket, Key=self._prefix + key)

        await self._call(remove())

    async def keys(self, under: str) -> list[str]:
        """Every key below `under` (itself below the prefix), relative to the prefix."""

        async def listing() -> list[str]:
            client = await self._s3()
            found: list[str] = []
            async for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=self._prefix + under
            ):
                found += [item["Key"][len(self._prefix) :] for item in page.get("Contents", [])]
            return found

        result: list[str] = await self._call(listing())
        return sorted(result)

    async def probe(self) -> dict[str, Any]:
        async def head() -> None:
            client = await self._s3()
            await client.head_bucket(Bucket=self._bucket)

        try:
            await self._call(head())
        except BackendError as e:
            return {"state": "down", "breaker": self._breaker.state.value, "error": str(e)}
        return {"state": "up", "breaker": self._breaker.state.value, "bucket": self._bucket}

    async def close(self) -> None:
        await self._stack.aclose()

    @property
    def breaker_state(self) -> BreakerState:
        return self._breaker.state

    @property
    def calls(self) -> int:
        """Calls that reached the tier (not refused by the breaker or the lookup's wait budget)."""
        return self._breaker.tried

    async def _call(self, operation: Any) -> Any:
        # Connecting and reading each have the timeout: a call as a whole has twice that.
        return await guarded_call(
            operation,
            tier="s3",
            label="S3",
            wait=self._timeout * 2,
            breaker=self._breaker,
            timeouts=(ConnectTimeoutError, ReadTimeoutError, TimeoutError),
            failures=(ClientError, BotoCoreError, OSError),
        )


@dataclass(frozen=True, slots=True)
class ObjectStream:
    """An object being read: its length in bytes (of the range asked for) and its body in chunks."""

    size: int
    chunks: AsyncGenerator[bytes, None]
    release: Callable[[], None]  # frees the connection, even if no chunk was read


STREAM_CHUNK = 256 * 1024


async def _chunks(body: Any) -> AsyncGenerator[bytes, None]:
    try:
        while chunk := await body.read(STREAM_CHUNK):
            yield chunk
    except Exception as e:  # the connection broke or stalled mid-body: botocore's, aiohttp's or the socket's error
        raise BackendError(f"s3: reading an object: {type(e).__name__}: {e}") from e
    finally:
        body.close()


async def _in_parallel(call: Callable[[DocKey], Awaitable[None]], keys: Iterable[DocKey]) -> None:
    """`call` for every key, at most PARALLEL at once; every call runs to its end before the first error is raised
    (an open circuit refuses the rest at once)."""
    gate = asyncio.Semaphore(PARALLEL)

    async def bounded(key: DocKey) -> None:
        async with gate:
            await call(key)

    results = await asyncio.gather(*(bounded(key) for key in keys), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
