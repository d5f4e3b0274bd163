"""Where templates come from: a templates folder of tenants' own files, over the defaults packaged with tenantedge.

Every root has the same layout, `default/` and `tenants/<id>/`. The package's root holds only `default/`
(templates, section schemas, assets); a templates folder adds `tenants/<id>/`, and a file under its `default/`
replaces the package's file of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tenantedge.errors import ConfigError

PACKAGED = Path(__file__).resolve().parent.parent / "templates"
WORKING_FOLDER = Path("templates")


@dataclass(frozen=True, slots=True)
class TemplateFolders:
    """Template roots, the first winning."""

    roots: tuple[Path, ...]

    @classmethod
    def find(cls, folder: Path | None) -> TemplateFolders:
        """`folder` (TENANTEDGE_TEMPLATES), which must exist; else ./templates when it exists; over the package's."""
        if folder is None:
            if not WORKING_FOLDER.is_dir():
                return cls((PACKAGED,))
            folder = WORKING_FOLDER
        elif not folder.is_dir():
            raise ConfigError(f"TENANTEDGE_TEMPLATES (or --templates): {folder}: templates folder not found")
        if folder.resolve() == PACKAGED:
            return cls((PACKAGED,))
        return cls((folder, PACKAGED))

    def defaults(self, part: str = "") -> tuple[Path, ...]:
        """Every existing `default/<part>` folder, the first winning."""
        found = (root / "default" / part if part else root / "default" for root in self.roots)
        return tuple(path for path in found if path.is_dir())

    def tenant(self, tenant_id: str) -> tuple[Path, ...]:
        """Every `tenants/<id>` folder that may hold the tenant's own files, existing or not."""
        return tuple(root / "tenants" / tenant_id for root in self.roots)

    def tenant_ids(self) -> frozenset[str]:
        """Tenants with a folder of their own."""
        found: set[str] = set()
        for root in self.roots:
            if (root / "tenants").is_dir():
                found.update(entry.name for entry in (root / "tenants").iterdir() if entry.is_dir())
        return frozenset(found)

    def label(self, filename: str) -> str:
        """A template file relative to its root (`default/sections/Hero.html`), as explain mode and logs show it."""
        path = Path(filename)
        for root in self.roots:
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
        return filename
