"""A plugin's manifest, and the section and settings schemas read from the folder it names.

A plugin's folder (`Manifest.root`, usually the package's own directory) holds:

    sections/<Type>.schema.json + <Type>.html   sections, as the built-in ones are declared; named `<plugin>/<Type>`
    templates/                                  templates its hooks' Fragments name (`head.html`, ...)
    assets/                                     static files, served at /_edge/plugins/<plugin>/assets/<file>
    migrations/                                 SQL files (0001_name.sql), applied by `tenantedge migrate`
    settings.schema.json                        the per-tenant settings, in JSON Schema (see settings_schema.py)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from tenantedge.errors import RegistryError
from tenantedge.plugins.settings_schema import settings_props
from tenantedge.sections import SCHEMA_SUFFIX, PluginSchema, SectionSpec, parse_section_schema

PLUGIN_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}\Z")
# What a plugin may claim under /_edge/plugins/<name>/: one or more plain segments.
_POST_PATH = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}(?:/[a-z0-9][a-z0-9._-]{0,63}){0,3}\Z")
_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
SETTINGS_FILE = "settings.schema.json"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a plugin module declares as `manifest`, beside its `@hookimpl` functions."""

    name: str
    version: str
    # The tenantedge versions it works with, as a PEP 440 specifier: ">=0.1,<0.2".
    requires: str
    # Its folder of sections, templates, assets and settings schema.
    root: Path
    title: str = ""
    description: str = ""
    # Stylesheets under assets/ that every page of an enabling tenant links.
    css: tuple[str, ...] = ()
    # Paths under /_edge/plugins/<name>/ whose POSTs its `tenantedge_post` hook answers.
    post_paths: tuple[str, ...] = ()

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def assets(self) -> Path:
        return self.root / "assets"

    @property
    def migrations(self) -> Path:
        """SQL files `tenantedge migrate` applies after tenantedge's own, as `<name>/<file>`."""
        return self.root / "migrations"

    def check(self, tenantedge_version: str) -> None:
        """Raise RegistryError naming the plugin when it cannot run on this tenantedge."""
        where = f"plugin {self.name!r}"
        if not PLUGIN_NAME.match(self.name):
            raise RegistryError(f"{where}: a name is 1-40 lowercase letters, digits and '-', starting with a letter")
        try:
            Version(self.version)
            supported = SpecifierSet(self.requires)
        except (InvalidVersion, InvalidSpecifier) as e:
            raise RegistryError(f"{where}: {e}") from e
        if not supported.contains(tenantedge_version, prereleases=True):
            raise RegistryError(f"{where} supports tenantedge {self.requires}, not {tenantedge_version}")
        for path in self.post_paths:
            if not _POST_PATH.match(path):
                raise RegistryError(f"{where}: post path {path!r} must be lowercase segments like 'submit'")
        for name in self.css:
            if not _ASSET.match(name) or not name.endswith(".css") or not (self.assets / name).is_file():
                raise RegistryError(f"{where}: stylesheet {name!r} is not a .css file in {self.assets}")


def read_schema(manifest: Manifest) -> tuple[PluginSchema, list[SectionSpec]]:
    """The plugin's settings schema and sections; RegistryError names the file at fault."""
    json_schema = _settings_json_schema(manifest)
    settings = settings_props(json_schema, f"{manifest.name}: {SETTINGS_FILE}") if json_schema else {}
    sections = []
    folder = manifest.root / "sections"
    if folder.is_dir():
        for path in sorted(folder.glob("*" + SCHEMA_SUFFIX)):
            section_type = path.name.removesuffix(SCHEMA_SUFFIX)
            if not (folder / f"{section_type}.html").is_file():
                raise RegistryError(f"{path}: section {section_type!r} has no template {section_type}.html beside it")
            sections.append(parse_section_schema(section_type, path.read_bytes(), str(path), plugin=manifest.name))
    schema = PluginSchema(
        name=manifest.name,
        version=manifest.version,
        title=manifest.title or manifest.name,
        description=manifest.description,
        settings=settings,
        settings_json_schema=json_schema,
        sections=tuple(spec.type for spec in sections),
    )
    return schema, sections


def broken_schema(name: str, reason: str) -> PluginSchema:
    """The entry of a plugin that could not load: enabling tenants keep serving, without it."""
    return PluginSchema(name=name, version="", title=name, description="", settings={}, broken=reason)


def _settings_json_schema(manifest: Manifest) -> dict[str, Any] | None:
    path = manifest.root / SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        where = f"{manifest.name}: {SETTINGS_FILE}"
        raise RegistryError(f"{where}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
    if not isinstance(raw, dict):
        raise RegistryError(f"{manifest.name}: {SETTINGS_FILE}: expected a JSON Schema object")
    return raw
