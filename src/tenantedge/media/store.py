"""Where a tenant's assets live: the origin the tenants live in, S3 or a folder beside tenants.json.

The layout is the same in both: `assets/{tenant}/{id}` for each file (its id is `{sha256}.{ext}`, so the same
bytes are stored once) and `assets/{tenant}/index.json`, the tenant's library: each asset's name, type, size,
dimensions, and who uploaded it when. Writers change a library under the tenant's write lock; in S3 each change
is also a compare-and-swap on the index's ETag, for machines that share the bucket but no lock (no Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tenantedge.errors import BackendError
from tenantedge.media.references import ASSET_ID
from tenantedge.media.variants import VARIANT_ID
from tenantedge.store.blobs import write_atomically

if TYPE_CHECKING:
    from tenantedge.store.s3 import S3Tier

FOLDER = "assets"
INDEX = "index.json"
VARIANTS = "variants"  # width variants of images (tenantedge.media.variants), beside the originals
CHUNK = 256 * 1024
SWAP_ATTEMPTS = 8  # an index changed by another writer this many times in a row: give up, the writer retries


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """One asset of a tenant's library."""

    id: str
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    uploaded_at: str
    by: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AssetRecord:
        return cls(
            str(raw["id"]),
            str(raw["name"]),
            str(raw["content_type"]),
            int(raw["size"]),
            raw.get("width"),
            raw.get("height"),
            str(raw.get("uploaded_at", "")),
            str(raw.get("by", "")),
        )


Library = dict[str, AssetRecord]
# A change to a library: the library to store given the one stored (None: nothing to change). It may raise, and
# may be called again with a newer library when another writer changed it meanwhile.
Change = Callable[[Library], Library | None]


@dataclass(frozen=True, slots=True)
class AssetStream:
    """An asset being read: the length of what is sent and the body in chunks, read as they are sent."""

    size: int
    chunks: AsyncGenerator[bytes, None]
    release: Callable[[], None]  # frees the file or connection, even if no chunk was read

    async def close(self) -> None:
        await self.chunks.aclose()
        self.release()


class AssetStore(Protocol):
    """A tenant's assets and library in the origin. Errors reaching it are BackendError."""

    name: str

    async def library(self, tenant: str) -> Library: ...

    async def save_library(self, tenant: str, library: Library) -> None: ...

    async def change_library(self, tenant: str, change: Change) -> Library:
        """Apply `change` to the stored library as one step no other writer's change is lost in; the result."""
        ...

    async def put(self, tenant: str, asset: str, data: bytes, content_type: str) -> None: ...

    async def open(
        self, tenant: str, asset: str, first: int | None = None, last: int | None = None
    ) -> AssetStream | None:
        """The asset, or bytes first..last of it (None: not stored)."""
        ...

    async def delete(self, tenant: str, asset: str) -> None: ...

    async def close(self) -> None: ...


def encode_library(library: Library) -> bytes:
    return orjson.dumps({"assets": {asset: record.to_json() for asset, record in sorted(library.items())}})


def decode_library(data: bytes, where: str) -> Library:
    try:
        raw = orjson.loads(data)
        return {asset: AssetRecord.from_json(record) for asset, record in raw["assets"].items()}
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise BackendError(f"{where}: not an asset library ({type(e).__name__}: {e}); fix or remove it") from e


def _checked(asset: str) -> str:
    """Where an asset (or a variant of one, in `variants/`) is kept under its tenant's folder."""
    # Names reach the disk and the bucket only in these shapes: no separator, no '..'.
    if ASSET_ID.match(asset):
        return asset
    if VARIANT_ID.match(asset):
        return f"{VARIANTS}/{asset}"
    raise ValueError(f"not an asset id: {asset!r}")


class FolderAssets:
    """Assets as files: `{root}/assets/{tenant}/{id}`, the library in `{root}/assets/{tenant}/index.json`."""

    name = "file"

    def __init__(self, root: Path) -> None:
        self.root = root / FOLDER

    async def library(self, tenant: str) -> Library:
        path = self.root / tenant / INDEX
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise BackendError(f"{path}: {e.strerror}") from e
        return decode_library(data, str(path))

    async def save_library(self, tenant: str, library: Library) -> None:
        await asyncio.to_thread(write_atomically, self.root / tenant / INDEX, encode_library(library))

    async def change_library(self, tenant: str, change: Change) -> Library:
        # One machine: the tenant's write lock, held by every writer, keeps changes apart.
        current = await self.library(tenant)
        changed = change(current)
        if changed is None:
            return current
        await self.save_library(tenant, changed)
        return changed

    async def put(self, tenant: str, asset: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(write_atomically, self.root / tenant / _checked(asset), data)

    async def open(
        self, tenant: str, asset: str, first: int | None = None, last: int | None = None
    ) -> AssetStream | None:
        path = self.root / tenant / _checked(asset)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise BackendError(f"{path}: {e.strerror}") from e
        size = os.fstat(handle.fileno()).st_size
        start = first or 0
        end = size - 1 if last is None else min(last, size - 1)
        return AssetStream(max(end - start + 1, 0), _file_chunks(handle, start, end), handle.close)

    async def delete(self, tenant: str, asset: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread((self.root / tenant / _checked(asset)).unlink)

    async def close(self) -> None:
        return None


async def _file_chunks(handle: Any, start: int, end: int) -> AsyncGenerator[bytes, None]:
    try:
        await asyncio.to_thread(handle.seek, start)
        left = end - start + 1
        while left > 0:
            chunk: bytes = await asyncio.to_thread(handle.read, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    except OSError as e:
        raise BackendError(f"{handle.name}: {e.strerror}") from e
    finally:
        handle.close()


class ObjectAssets:
    """Assets in S3: `{prefix}assets/{tenant}/{id}`, the library in `{prefix}assets/{tenant}/index.json`."""

    name = "s3"

    def __init__(self, s3: S3Tier) -> None:
        self._s3 = s3

    async def library(self, tenant: str) -> Library:
        key = f"{FOLDER}/{tenant}/{INDEX}"
        data = await self._s3.get_object(key)
        return {} if data is None else decode_library(data, f"s3: {key}")

    async def save_library(self, tenant: str, library: Library) -> None:
        await self._s3.put_object(f"{FOLDER}/{tenant}/{INDEX}", encode_library(library), "application/json")

    async def change_library(self, tenant: str, change: Change) -> Library:
        # Read, change, write only over the copy read (If-Match, or If-None-Match where none was): a write that
        # lost to another machine's reads the newer copy and tries again.
        key = f"{FOLDER}/{tenant}/{INDEX}"
        for _ in range(SWAP_ATTEMPTS):
            tagged = await self._s3.get_object_tagged(key)
            current = {} if tagged is None else decode_library(tagged[0], f"s3: {key}")
            changed = change(current)
            if changed is None:
                return current
            etag = None if tagged is None else tagged[1]
            if await self._s3.put_object_if(key, encode_library(changed), "application/json", etag=etag):
                return changed
        raise BackendError(f"s3: {key}: changed by other writers {SWAP_ATTEMPTS} times in a row; try again")

    async def put(self, tenant: str, asset: str, data: bytes, content_type: str) -> None:
        await self._s3.put_object(f"{FOLDER}/{tenant}/{_checked(asset)}", data, content_type)

    async def open(
        self, tenant: str, asset: str, first: int | None = None, last: int | None = None
    ) -> AssetStream | None:
        opened = await self._s3.open_object(f"{FOLDER}/{tenant}/{_checked(asset)}", first, last)
        return None if opened is None else AssetStream(opened.size, opened.chunks, opened.release)

    async def delete(self, tenant: str, asset: str) -> None:
        await self._s3.delete_object(f"{FOLDER}/{tenant}/{_checked(asset)}")

    async def close(self) -> None:
        return None  # the S3 tier is the tenant store's, closed with it
