"""History records and drafts: JSON by key, kept in the origin only (a bucket, or folders beside tenants.json).

The layout is the same in both: `history/{id}/{version}.json` and `drafts/{id}/{page}.json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from tenantedge.errors import BackendError
from tenantedge.store.layout import FOLDERS, DocKey


class Blobs(Protocol):
    """History records and drafts: JSON by key, kept in the origin only."""

    async def get(self, key: DocKey) -> bytes | None: ...

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: DocKey) -> None: ...

    async def names(self, kind: str, under: str = "") -> list[str]: ...


class FolderBlobs:
    """Blobs as files: `{root}/history/{id}/{version}.json`, `{root}/drafts/{id}/{page}.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: DocKey) -> Path:
        return self.root / FOLDERS[key[0]] / f"{key[1]}.json"

    async def get(self, key: DocKey) -> bytes | None:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise BackendError(f"{self._path(key)}: {e.strerror}") from e

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None:
        await asyncio.to_thread(write_atomically, self._path(key), data)

    async def delete(self, key: DocKey) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def names(self, kind: str, under: str = "") -> list[str]:
        folder = self.root / FOLDERS[kind]
        # Names below "{id}/" live in that one folder: walk it alone, not every tenant's.
        start = folder / under if under.endswith("/") else folder

        def walk() -> list[str]:
            if not start.is_dir():
                return []
            return sorted(
                str(path.relative_to(folder))[: -len(".json")]
                for path in start.rglob("*.json")
                if str(path.relative_to(folder)).startswith(under)
            )

        return await asyncio.to_thread(walk)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old content or the new, never a part (temp file, fsync, rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
    except OSError as e:
        raise BackendError(f"{path}: cannot write: {e.strerror}") from e
