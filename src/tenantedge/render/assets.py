"""Static assets shipped with the default templates, held in memory with digests for cache-busting URLs."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tenantedge.errors import ConfigError

ASSETS_PREFIX = "/_edge/assets/"
_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    content_type: str
    digest: str


class AssetCatalog:
    """Every file of the assets folders, read once at start."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self._assets = assets

    @classmethod
    def from_directories(cls, folders: Sequence[Path]) -> AssetCatalog:
        """Every file under the folders by its relative name, the first folder's winning."""
        if not folders:
            raise ConfigError("no assets folder found")
        assets = {}
        for folder in reversed(folders):
            if not folder.is_dir():
                raise ConfigError(f"{folder}: assets folder not found")
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                name = path.relative_to(folder).as_posix()
                body = path.read_bytes()
                content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
                assets[name] = Asset(name, body, content_type, hashlib.sha256(body).hexdigest()[:12])
        return cls(assets)

    def get(self, name: str) -> Asset | None:
        return self._assets.get(name)

    def url(self, name: str) -> str:
        """A URL that changes whenever the file does, so it can be cached forever."""
        asset = self._assets.get(name)
        if asset is None:
            raise KeyError(f"no asset {name!r} in the assets folder")
        return f"{ASSETS_PREFIX}{name}?v={asset.digest}"
