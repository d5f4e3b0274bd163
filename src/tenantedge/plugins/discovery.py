"""Find installed plugins through the `tenantedge.plugins` entry point group and load each on its own.

An entry point names the plugin's module: `[project.entry-points."tenantedge.plugins"] my-plugin = "my_plugin"`.
The module has a `manifest` (tenantedge.plugins.Manifest) and its `@hookimpl` functions. A plugin that fails to
import, to pass pluggy's check of its hooks, to support this tenantedge, or to start, is logged with its name and
kept as broken: the site serves without it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, entry_points, version
from types import ModuleType

import pluggy

from tenantedge.plugins import hookspecs
from tenantedge.plugins.manifest import Manifest, broken_schema, read_schema
from tenantedge.sections import PluginSchema, SectionRegistry, SectionSpec

log = logging.getLogger("tenantedge.plugins")

GROUP = "tenantedge.plugins"


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    """A plugin that loaded and started: its manifest, its own plugin manager, and what it implements."""

    manifest: Manifest
    manager: pluggy.PluginManager
    schema: PluginSchema
    sections: tuple[SectionSpec, ...]
    hooks: frozenset[str]
    # Hooks written as `async def`: awaited on the event loop; the others run in the plugin's threads.
    asynchronous: frozenset[str]

    @property
    def name(self) -> str:
        return self.manifest.name


@dataclass(frozen=True, slots=True)
class Discovered:
    """Every installed plugin, loaded or broken, by name."""

    loaded: Mapping[str, LoadedPlugin]
    broken: Mapping[str, PluginSchema]

    def registry(self, base: SectionRegistry) -> SectionRegistry:
        """`base` with every loaded plugin's sections, and every plugin's settings schema."""
        sections = [spec for plugin in self.loaded.values() for spec in plugin.sections]
        schemas = [plugin.schema for plugin in self.loaded.values()] + list(self.broken.values())
        return base.with_plugins(schemas, sections)


def tenantedge_version() -> str:
    try:
        return version("tenantedge")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


def discover(group: str = GROUP, *, load: bool = True) -> Discovered:
    """Load every plugin of the entry point group (the first of two with one name wins). With `load` off, none is
    imported and each is listed as broken: documents that enable one still load, and serve without it."""
    running = tenantedge_version()
    loaded: dict[str, LoadedPlugin] = {}
    broken: dict[str, PluginSchema] = {}
    for entry in entry_points(group=group):
        name = entry.name
        if name in loaded or name in broken:
            log.error("plugin %s: installed twice (%s); the first one found is used", name, entry.value)
            continue
        if not load:
            broken[name] = broken_schema(name, "plugins are off (TENANTEDGE_PLUGINS=0)")
            continue
        try:
            module = entry.load()
            loaded[name] = load_plugin(name, module, running)
        except Exception as e:
            log.exception("plugin %s: disabled, it failed to load", name)
            broken[name] = broken_schema(name, f"{type(e).__name__}: {e}")
    return Discovered(loaded, broken)


def load_plugin(name: str, module: ModuleType, running: str) -> LoadedPlugin:
    """Check a plugin module and start it; raise whatever keeps it from running."""
    manifest = getattr(module, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise TypeError(f"module {module.__name__} has no `manifest = tenantedge.plugins.Manifest(...)`")
    if manifest.name != name:
        raise ValueError(f"its manifest is named {manifest.name!r}, its entry point {name!r}")
    manifest.check(running)
    schema, sections = read_schema(manifest)
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(module, name=name)
    manager.check_pending()  # a hook that is not in hookspecs: misspelt, or from a newer tenantedge
    callers = manager.get_hookcallers(module) or []
    hooks = frozenset(caller.name for caller in callers)
    asynchronous = frozenset(
        caller.name
        for caller in callers
        for impl in caller.get_hookimpls()
        if inspect.iscoroutinefunction(impl.function)
    )
    if "tenantedge_startup" in asynchronous:
        raise TypeError("tenantedge_startup must be a plain function: it runs before the event loop")
    manager.hook.tenantedge_startup()
    return LoadedPlugin(manifest, manager, schema, tuple(sections), hooks, asynchronous)
