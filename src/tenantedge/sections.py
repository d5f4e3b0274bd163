"""The section registry: section types, their variants, props schemas and the features they need.

Each section type is declared by `default/sections/<Type>.schema.json` (in the package, or in a templates folder,
which may add or replace types), next to its template `<Type>.html`; the same schema validates documents, drives
the page builder's forms and documents the type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tenantedge.errors import RegistryError
from tenantedge.props import PropSpec, parse_spec


@dataclass(frozen=True, slots=True)
class Feature:
    """A flag a tenant can switch, as an operator reads it: a title and one sentence of help."""

    title: str
    help: str


# Feature flags a tenant can switch; sections and templates ask for them by name.
FEATURES: Mapping[str, Feature] = {
    "blog": Feature("Blog", "Blog posts: the Blog section and blog pages."),
    "aiChat": Feature("AI assistant", "The AI assistant chat panel (the AIAssistant component)."),
    "payments": Feature("Payments", "Pricing tables with checkout buttons."),
    "contactForm": Feature("Contact form", "The message form inside the Contact section."),
}

DEFAULT_VARIANT = "default"
SCHEMA_SUFFIX = ".schema.json"
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,39}\Z")
_VARIANT_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}\Z")
_SCHEMA_KEYS = {"title", "description", "feature", "component", "variants", "props"}


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One section type: its variants, its props schema, and what a tenant needs to use it."""

    type: str
    title: str
    description: str
    variants: Mapping[str, str]
    props: Mapping[str, PropSpec]
    feature: str | None = None
    component: bool = False
    # The plugin that adds the type (its name is `<plugin>/<Type>`); None for the built-in and folder sections.
    plugin: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The schema as the page builder and the docs read it."""
        return {
            "type": self.type,
            "plugin": self.plugin,
            "title": self.title,
            "description": self.description,
            "variants": dict(self.variants),
            "feature": self.feature,
            "component": self.component,
            "props": {name: spec.to_json() for name, spec in self.props.items()},
        }


@dataclass(frozen=True, slots=True)
class PluginSchema:
    """What documents need to know of an installed plugin: its settings' schema and the sections it adds.

    A plugin installed but broken (it failed to import or to start, or does not support this tenantedge) keeps an
    entry with `broken` set: documents that enable it still load, its settings and sections unchecked, and its
    sections render as placeholders, so a broken plugin never takes a site down.
    """

    name: str
    version: str
    title: str
    description: str
    settings: Mapping[str, PropSpec]
    sections: tuple[str, ...] = ()
    broken: str | None = None
    # The settings schema as the plugin ships it (JSON Schema), which `settings` was read from; None without one.
    settings_json_schema: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """As the admin API shows it: the settings' schema in the format of section props, for a generated form,
        and as the JSON Schema the plugin ships."""
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "settings": {name: spec.to_json() for name, spec in self.settings.items()},
            "settings_json_schema": self.settings_json_schema,
            "sections": list(self.sections),
            "broken": self.broken,
        }


class SectionRegistry:
    """Every section type tenantedge can render, by name, and the plugins that may add to them."""

    def __init__(self, specs: Mapping[str, SectionSpec], plugins: Mapping[str, PluginSchema] | None = None) -> None:
        self._specs = dict(specs)
        self.plugins: Mapping[str, PluginSchema] = dict(plugins or {})

    def with_plugins(self, plugins: Sequence[PluginSchema], sections: Sequence[SectionSpec]) -> SectionRegistry:
        """This registry with the plugins' sections added (each named `<plugin>/<Type>`, so none can shadow
        a built-in one)."""
        specs = dict(self._specs)
        for spec in sections:
            if spec.plugin is None or not spec.type.startswith(spec.plugin + "/"):
                raise RegistryError(f"plugin section {spec.type!r} must be named '<plugin>/<Type>'")
            specs[spec.type] = spec
        return SectionRegistry(specs, {**self.plugins, **{plugin.name: plugin for plugin in plugins}})

    def available(self, plugins: Iterable[str]) -> list[SectionSpec]:
        """The palette of a tenant that enabled `plugins`: built-in sections and the sections of those plugins."""
        enabled = set(plugins)
        return [spec for spec in self._specs.values() if spec.plugin is None or spec.plugin in enabled]

    @classmethod
    def from_directories(cls, sections_dirs: Sequence[Path]) -> SectionRegistry:
        """Every `<Type>.schema.json` under the sections folders, the first folder's winning; each needs a
        `<Type>.html` in one of them."""
        if not sections_dirs:
            raise RegistryError("no section folder found")
        specs: dict[str, SectionSpec] = {}
        for sections_dir in reversed(sections_dirs):
            if not sections_dir.is_dir():
                raise RegistryError(f"{sections_dir}: section folder not found")
            for path in sorted(sections_dir.glob("*" + SCHEMA_SUFFIX)):
                spec = parse_section_schema(path.name.removesuffix(SCHEMA_SUFFIX), path.read_bytes(), str(path))
                specs[spec.type] = spec
        for spec in specs.values():
            if not any((folder / f"{spec.type}.html").is_file() for folder in sections_dirs):
                where = " or ".join(str(folder) for folder in sections_dirs)
                raise RegistryError(f"{where}: section {spec.type!r} has no template {spec.type}.html beside it")
        if not specs:
            raise RegistryError(f"{sections_dirs[0]}: no *{SCHEMA_SUFFIX} section schemas found")
        return cls(specs)

    def get(self, section_type: str) -> SectionSpec | None:
        return self._specs.get(section_type)

    def __contains__(self, section_type: object) -> bool:
        return section_type in self._specs

    def __iter__(self) -> Iterator[SectionSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def components(self) -> list[str]:
        """Types a tenant must list in its `components` before using them."""
        return sorted(name for name, spec in self._specs.items() if spec.component)


def parse_section_schema(section_type: str, data: bytes, where: str, *, plugin: str | None = None) -> SectionSpec:
    """Parse one section schema file; raise RegistryError naming the file and the key at fault.

    A plugin's section is named `<plugin>/<Type>`; its schema file is named after `<Type>` alone."""
    if not _TYPE_NAME.match(section_type):
        raise RegistryError(f"{where}: section type {section_type!r} must be CamelCase letters and digits")
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise RegistryError(f"{where}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: expected a JSON object")
    unknown = set(raw) - _SCHEMA_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_SCHEMA_KEYS)}")
    variants = raw.get("variants", {DEFAULT_VARIANT: "The standard layout."})
    if not isinstance(variants, dict) or DEFAULT_VARIANT not in variants:
        raise RegistryError(f"{where}: 'variants' must be an object with a {DEFAULT_VARIANT!r} entry")
    for variant in variants:
        if not _VARIANT_NAME.match(variant):
            raise RegistryError(f"{where}: variant {variant!r} must be lowercase letters, digits and '-'")
    feature = raw.get("feature")
    if feature is not None and feature not in FEATURES:
        raise RegistryError(f"{where}: feature {feature!r} is unknown; expected one of {sorted(FEATURES)}")
    props_raw = raw.get("props", {})
    if not isinstance(props_raw, dict):
        raise RegistryError(f"{where}: 'props' must be an object")
    return SectionSpec(
        type=f"{plugin}/{section_type}" if plugin else section_type,
        title=str(raw.get("title", section_type)),
        description=str(raw.get("description", "")),
        variants={str(name): str(text) for name, text in variants.items()},
        props={name: parse_spec(name, spec, where) for name, spec in props_raw.items()},
        feature=feature,
        component=bool(raw.get("component", False)),
        plugin=plugin,
    )
