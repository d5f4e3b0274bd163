"""The template fallback chain: `tenants/<id>/<name>` first, then `default/<name>`, for every template.

Each is looked for in every root of the TemplateFolders in turn: the templates folder, then the package's defaults.
A plugin's templates are named `plugins/<plugin>/<name>`: looked for the same way (so a tenant can override them),
then in the plugin's own templates folder.

Template names carry a namespace, `<namespace>/<name>`: `_` for the defaults alone, or a tenant id for a
tenant that has its own folder. Jinja caches compiled templates by name, so the namespace keeps a tenant's
overrides apart, while the 10,000 tenants without overrides share the `_` namespace and one compiled copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, TemplateNotFound
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tenantedge.render.escaping import OutputCodeGenerator
from tenantedge.render.folders import TemplateFolders

DEFAULT_NAMESPACE = "_"
# The folders of a plugin that hold templates.
_OWN = ("sections", "templates")


class FallbackLoader(BaseLoader):
    """Finds `<namespace>/<name>` in the tenant's folder, then in the defaults."""

    def __init__(
        self, folders: TemplateFolders, *, watch: bool = False, plugins: Mapping[str, Path] | None = None
    ) -> None:
        self.folders = folders
        # Each plugin's folder (its sections/ and templates/ are read), by plugin name.
        self._plugins = dict(plugins or {})
        self._default_dirs = tuple(root / "default" for root in folders.roots)
        # With watch on, a tenant folder created while serving is noticed; otherwise the folder list is read once.
        self._watch = watch
        self._overrides = folders.tenant_ids()

    def namespace(self, tenant_id: str) -> str:
        """The namespace a tenant's templates are named in."""
        if self._watch:
            has_own = any(folder.is_dir() for folder in self.folders.tenant(tenant_id))
            return tenant_id if has_own else DEFAULT_NAMESPACE
        return tenant_id if tenant_id in self._overrides else DEFAULT_NAMESPACE

    def search_path(self, namespace: str) -> tuple[Path, ...]:
        if namespace == DEFAULT_NAMESPACE:
            return self._default_dirs
        return self.folders.tenant(namespace) + self._default_dirs

    def choose(self, namespace: str, candidates: Sequence[str]) -> str:
        """The first existing name, trying every candidate in the tenant's folder before any default.

        For `Hero.simple.html, Hero.html` that is tenant Hero.simple, tenant Hero, default Hero.simple,
        default Hero: a tenant's own Hero beats the default's variant of it.
        """
        for base in self.search_path(namespace):
            for name in candidates:
                if base.joinpath(*split_template_path(name)).is_file():
                    return f"{namespace}/{name}"
        for name in candidates:
            pieces = split_template_path(name)
            own = self._plugin_file(pieces)
            if own is not None and own.is_file():
                return f"{namespace}/{name}"
        raise TemplateNotFound(f"{namespace}/{candidates[-1]}", f"none of {list(candidates)} in {namespace!r}")

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        namespace, slash, name = template.partition("/")
        if not slash or not namespace:
            raise TemplateNotFound(template)
        pieces = split_template_path(name)  # rejects '..' and separators before touching the disk
        searched = self.search_path(namespace)
        paths = [base.joinpath(*pieces) for base in searched]
        own = self._plugin_file(pieces)
        if own is not None:
            paths.append(own)
        for depth, path in enumerate(paths):
            try:
                mtime = path.stat().st_mtime
                source = path.read_text("utf-8")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            shadows = tuple(paths[:depth])
            return source, str(path), _uptodate(path, mtime, shadows)
        raise TemplateNotFound(template)

    def _plugin_file(self, pieces: list[str]) -> Path | None:
        """`plugins/<plugin>/sections/…` and `plugins/<plugin>/templates/…` in the plugin's own folder."""
        if len(pieces) < 4 or pieces[0] != "plugins" or pieces[1] not in self._plugins or pieces[2] not in _OWN:
            return None
        return self._plugins[pieces[1]].joinpath(*pieces[2:])

    def list_templates(self) -> list[str]:
        """Every template file as `<namespace>/<name>`, for checking that all of them compile."""
        found: list[str] = []
        folders = [(DEFAULT_NAMESPACE, self._default_dirs)]
        folders += [(tenant_id, self.folders.tenant(tenant_id)) for tenant_id in sorted(self.folders.tenant_ids())]
        for namespace, bases in folders:
            # A file under several roots is one template: the first root's copy shadows the others.
            names = {path.relative_to(base).as_posix() for base in bases for path in base.rglob("*.html")}
            found.extend(f"{namespace}/{name}" for name in sorted(names))
        for plugin, folder in sorted(self._plugins.items()):
            names = {
                path.relative_to(folder).as_posix() for own in _OWN for path in folder.joinpath(own).rglob("*.html")
            }
            found.extend(f"{DEFAULT_NAMESPACE}/plugins/{plugin}/{name}" for name in sorted(names))
        return found


def _uptodate(path: Path, mtime: float, shadows: tuple[Path, ...]) -> Callable[[], bool]:
    """Up to date while the file is unchanged and no tenant file that would take precedence has appeared."""

    def check() -> bool:
        try:
            if path.stat().st_mtime != mtime:
                return False
        except OSError:
            return False
        return not any(shadow.is_file() for shadow in shadows)

    return check


class TenantEnvironment(ImmutableSandboxedEnvironment):
    """Sandboxed, because tenants may supply templates; includes stay inside their parent's namespace."""

    # Output escaped without building a Markup per `{{ … }}` (see tenantedge.render.escaping).
    code_generator_class = OutputCodeGenerator
    # Plain data types whose public attributes templates may read without the sandbox's per-access checks.
    trusted_types: frozenset[type] = frozenset()

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Fast paths for the two things templates read most: props (plain dicts, where an item lookup
        # can reach nothing dangerous, and `props.items` means the prop, not the method) and our own
        # frozen view objects. Everything else goes through the full sandbox checks.
        kind = type(obj)
        if kind is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        elif kind in self.trusted_types and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        # A plain dict, not Jinja's ChainMap over the environment's globals: every render copies the globals
        # into its context, and a ChainMap is copied key by key in Python. Globals are all set before the first
        # template loads (as Jinja asks), so nothing is lost by taking them once.
        return {**self.globals, **(d or {})}

    def join_path(self, template: str, parent: str) -> str:
        # `{% include "partials/x.html" %}` in `acme/sections/Hero.html` means `acme/partials/x.html`,
        # so a tenant's partial wins even when a default template includes it.
        namespace = parent.partition("/")[0]
        return f"{namespace}/{template}"
