"""Render a tenant's page: each section through its template chain, wrapped in the tenant's layout.

Rendering is synchronous and pure: a tenant document and a path in, HTML out. Whatever does not change
between requests for one tenant version (theme stylesheet, navigation, template choice) is computed once.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter_ns
from typing import Any, NamedTuple

from cachetools import LRUCache
from jinja2 import Environment, Template, TemplateNotFound, nodes, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from tenantedge.blog import Listing, PostView
from tenantedge.experiments import Chosen
from tenantedge.media.sizes import ImageSizes, ResponsiveImage
from tenantedge.plugins.csp import DEFAULT_POLICY
from tenantedge.render.additions import NO_ADDITIONS, Missing, PageAdditions, render_fragments
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.loader import DEFAULT_NAMESPACE, FallbackLoader, TenantEnvironment
from tenantedge.render.theme import Stylesheet, theme_stylesheet
from tenantedge.richtext import markdown_to_html
from tenantedge.sections import DEFAULT_VARIANT
from tenantedge.telemetry.timings import Timings
from tenantedge.tenants import Page, Section, Tenant, Theme

log = logging.getLogger("tenantedge.render")

THEME_PATH = "/_edge/theme.css"
PAGE_LAYOUT = "layouts/page.html"
NOT_FOUND_PATH = ""
NOT_FOUND_SECTION = "errors/404.html"
NO_SITE_PAGE = "errors/no-site.html"
COMING_SOON_PAGE = "errors/coming-soon.html"
BLOG_LAYOUT = "layouts/blog.html"
POST_LAYOUT = "layouts/post.html"
_NEUTRAL_THEME = Theme("light", {}, (), "")
# Upper bounds of a section's render time, in seconds: most take tens of µs.
SECTION_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5)


@dataclass(frozen=True, slots=True)
class SectionView:
    """What a section template sees as `section`."""

    type: str
    variant: str
    index: int
    anchor: str


class PageView(NamedTuple):
    """What templates see as `page` (named tuples, here and below, are built faster than frozen dataclasses)."""

    path: str
    title: str


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str


class RenderedPage(NamedTuple):
    """A rendered page and, for explain mode, the template file behind each section in order."""

    html: str
    status: int
    templates: tuple[str, ...]
    # False when a plugin's fragment failed and was left out: served, not kept (the next request tries again).
    complete: bool = True


_FragmentKey = tuple[str, str, str]  # tenant id, digest, page path


# A region as the fragment cache keeps it: Markup while it is ASCII (a byte a character), else its UTF-8 bytes,
# a quarter of the string once one emoji makes every character four bytes; decoding costs under a µs a page.
_Region = Markup | bytes


class _Regions(NamedTuple):
    """A page's rendered sections, by region, and the template behind each; complete when none failed."""

    header: _Region
    main: _Region
    footer: _Region
    templates: tuple[str, ...]
    complete: bool

    def packed(self) -> _Regions:
        return self._replace(header=_packed(self.header), main=_packed(self.main), footer=_packed(self.footer))


def _packed(region: _Region) -> _Region:
    return region.encode() if isinstance(region, str) and not region.isascii() else region


def _unpacked(region: _Region) -> Markup:
    return Markup(region.decode()) if isinstance(region, bytes) else region  # noqa: S704 - rendered, escaped


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Per tenant version: what every page of the tenant shares."""

    namespace: str
    stylesheet: Stylesheet
    theme_url: str
    nav: tuple[NavLink, ...]
    # The tenant's page layout, resolved once (Jinja's own lookup costs a few µs on every render).
    layout: Template


class PageRenderer:
    """Renders pages of any tenant with one sandboxed Jinja environment shared by all of them."""

    def __init__(
        self,
        folders: TemplateFolders,
        assets: AssetCatalog,
        *,
        reload: bool = False,
        cache_size: int = 10_000,
        fragment_bytes: int = 16 << 20,
        images: ImageSizes | None = None,
        plugins: Mapping[str, Path] | None = None,
    ):
        self.loader = FallbackLoader(folders, watch=reload, plugins=plugins)
        self.env = TenantEnvironment(
            loader=self.loader,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=reload,
            cache_size=cache_size,
        )
        self.env.trusted_types = frozenset(
            {Tenant, Theme, SectionView, PageView, NavLink, Listing, PostView, ResponsiveImage}
        )
        # Asset images' sizes and variants, read before a tenant version first renders (see `images.prepare`).
        self.images = images or ImageSizes(None)
        add_template_helpers(self.env, assets, self.images)
        self._reload = reload
        # Resolved chains, misses included, so a fallback never searches the disk twice for one name.
        self._chosen: dict[tuple[str, str, str], Template] = {}
        self._prepared: LRUCache[tuple[str, str], _Prepared] = LRUCache(maxsize=cache_size)
        # A section's HTML depends only on the tenant version, the page and its place on it, so a page's
        # sections are rendered once and kept (bounded by bytes): a page-cache miss re-renders just the layout.
        self._fragments: LRUCache[_FragmentKey, _Regions] | None = None
        if fragment_bytes > 0:
            self._fragments = LRUCache(maxsize=fragment_bytes, getsizeof=_regions_size)
        self._relative: dict[str, str] = {}
        # The page layout each namespace renders, `extends` resolved (templates only change in reload mode).
        self._layouts: dict[str, Template] = {}
        # Each section's render time by type (bounded by the registry; plugins' types past the bound add up as
        # `other`): timed only when sections render, never for a cached page or kept fragments.
        self.sections = Timings(
            "tenantedge_render_section_seconds",
            "Time to render one section, by section type.",
            label="section",
            buckets=SECTION_BUCKETS,
        )

    def render_page(
        self,
        tenant: Tenant,
        path: str,
        additions: PageAdditions = NO_ADDITIONS,
        *,
        preview: bool = False,
        chosen: Chosen | None = None,
    ) -> RenderedPage | None:
        """The tenant's page at `path`, or None when it has no such page; `additions` are what its plugins add
        (a preview shows a placeholder where a section of a plugin missing from them would be); `chosen`, the
        variants of its experiments a visitor sees."""
        page = tenant.pages.get(path)
        if page is None:
            return None
        return self._own_page(tenant, path, page, None, additions, preview, chosen)

    def render_blog(
        self,
        tenant: Tenant,
        path: str,
        posts: Listing | PostView,
        additions: PageAdditions = NO_ADDITIONS,
        *,
        chosen: Chosen | None = None,
    ) -> RenderedPage:
        """A page showing posts read before it renders: the tenant's own page at `path`, its Blog sections showing
        the listing; else a page of the blog's index or one post, through `layouts/blog.html` or `layouts/post.html`
        (which tenants may override)."""
        if isinstance(posts, PostView):
            title = f"{posts.title} · {tenant.name}"
            description = posts.excerpt or tenant.description
            return self._render(
                tenant,
                posts.href,
                title,
                description,
                (),
                200,
                main=POST_LAYOUT,
                extra={"post": posts},
                additions=additions,
            )
        page = tenant.pages.get(path)
        if page is not None:
            return self._own_page(tenant, path, page, posts, additions, chosen=chosen)
        title = f"Blog · {tenant.name}" if posts.page == 1 else f"Blog, page {posts.page} · {tenant.name}"
        path = posts.href(posts.page)
        return self._render(
            tenant,
            path,
            title,
            tenant.description,
            (),
            200,
            main=BLOG_LAYOUT,
            extra={"blog": posts},
            additions=additions,
        )

    def render_not_found(self, tenant: Tenant) -> RenderedPage:
        """The tenant's themed 404 page, in its own layout; the same for every missing path, so cached once."""
        return self._render(tenant, NOT_FOUND_PATH, f"Page not found · {tenant.name}", "", (), 404)

    def render_no_site(self) -> RenderedPage:
        """The neutral 'no site here' page for hosts no tenant claims: nothing of any tenant, nothing of the host."""
        template = self.env.get_template(f"{DEFAULT_NAMESPACE}/{NO_SITE_PAGE}")
        html = template.render(lang="en", preset="light", title="No site here", description="", theme_url=None)
        return RenderedPage(html, 404, (self._name_of(template),))

    def render_coming_soon(self, tenant: Tenant) -> RenderedPage:
        """What the hosts of a tenant not yet published show when it asks for it: its name, description and theme,
        none of its pages, header or footer (the same at every path, so cached once)."""
        prepared = self._prepare(tenant)
        template = self._template(prepared.namespace, COMING_SOON_PAGE)
        html = template.render(
            lang=tenant.lang,
            preset=tenant.theme.preset,
            title=f"{tenant.name} · coming soon",
            description=tenant.description,
            theme_url=prepared.theme_url,
            tenant=tenant,
        )
        return RenderedPage(html, 200, (self._name_of(template),))

    def stylesheet(self, tenant: Tenant) -> Stylesheet:
        return self._prepare(tenant).stylesheet

    def compile_all(self) -> list[str]:
        """Compile every template file; return one message per file that fails (for `tenantedge validate`)."""
        problems = []
        for name in self.loader.list_templates():
            try:
                self.env.get_template(name)
            except Exception as e:
                where = getattr(e, "filename", None) or name
                line = getattr(e, "lineno", None)
                problems.append(f"{where}{f':{line}' if line else ''}: {type(e).__name__}: {e}")
        return problems

    def _own_page(
        self,
        tenant: Tenant,
        path: str,
        page: Page,
        blog: Listing | None,
        additions: PageAdditions = NO_ADDITIONS,
        preview: bool = False,
        chosen: Chosen | None = None,
    ) -> RenderedPage:
        title = _page_title(tenant, path, page.title)
        description = page.description or tenant.description
        return self._render(
            tenant,
            path,
            title,
            description,
            page.sections if chosen is None else chosen.sections,
            200,
            extra={"blog": blog},
            additions=additions,
            preview=preview,
            variant="" if chosen is None else chosen.label,
        )

    def _render(
        self,
        tenant: Tenant,
        path: str,
        title: str,
        description: str,
        sections: Sequence[Section],
        status: int,
        *,
        main: str | None = None,
        extra: dict[str, Any] | None = None,
        additions: PageAdditions = NO_ADDITIONS,
        preview: bool = False,
        variant: str = "",
    ) -> RenderedPage:
        prepared = self._prepare(tenant)
        page = PageView(path, title)
        base = {"tenant": tenant, "page": page, "nav": prepared.nav, "blog": None, **(extra or {})}
        if additions is not NO_ADDITIONS:
            base["plugins"] = additions.context
        # Fragments depend on the document alone; a page showing posts depends on them too, so is not kept. Nor
        # is one that a plugin was missing from (a preview shows placeholders for its sections, the site comments).
        fixed = main is None and base["blog"] is None and not additions.missing
        missing = Missing(additions.missing, preview)
        # A variant's sections are kept apart from the page's ('#' never appears in a page path).
        key = (tenant.id, tenant.digest, f"{path}#{variant}" if variant else path)
        regions = self._fragments.get(key) if self._fragments is not None and fixed else None
        if regions is None:
            regions = self._regions(prepared.namespace, tenant, sections, status, base, main, missing)
            # Sections rendered before the version's image sizes were read are not kept: they lack them.
            if self._fragments is not None and regions.complete and fixed and self.images.ready(tenant):
                with contextlib.suppress(ValueError):  # a page larger than the whole budget is not kept
                    self._fragments[key] = regions.packed()
        # With templates reloading, the layout may have changed since the tenant version was prepared.
        layout = self._template(prepared.namespace, PAGE_LAYOUT) if self._reload else prepared.layout
        base.update(
            lang=tenant.lang,
            preset=tenant.theme.preset,
            title=title,
            description=description,
            theme_url=prepared.theme_url,
            header=_unpacked(regions.header),
            main=_unpacked(regions.main),
            footer=_unpacked(regions.footer),
        )
        complete = True
        if additions is not NO_ADDITIONS:
            head, head_complete = render_fragments(self.env, prepared.namespace, tenant, additions.head, base)
            body, body_complete = render_fragments(self.env, prepared.namespace, tenant, additions.body_end, base)
            complete = head_complete and body_complete
            base.update(
                # Built of validated origins and fixed keywords (tenantedge.plugins.csp): no character to escape.
                csp=Markup(additions.csp),  # noqa: S704
                plugin_css=additions.stylesheets,
                plugin_head=head,
                plugin_body=body,
            )
        return RenderedPage(self._run_layout(layout, base), status, regions.templates, complete)

    def _run_layout(self, layout: Template, values: dict[str, Any]) -> str:
        """`layout.render(values)`, without the copies of `values` that Template.render makes on the way."""
        try:
            return "".join(layout.root_render_func(layout.new_context(values)))
        except Exception:
            self.env.handle_exception()  # raises again, with the template's own lines in the traceback

    def _regions(
        self,
        namespace: str,
        tenant: Tenant,
        sections: Sequence[Section],
        status: int,
        base: dict[str, Any],
        layout: str | None,
        missing: Missing,
    ) -> _Regions:
        """Render every section of the page (header, main, footer) once; `layout` renders the main region alone."""
        used: list[str] = []
        failures: list[bool] = []
        header = self._sections(namespace, tenant.header, "h", base, used, failures, missing)
        if status == 404:
            main = self._render_one(namespace, NOT_FOUND_SECTION, "NotFound", base, used)
        elif layout is not None:
            main = self._render_one(namespace, layout, "Blog", base, used)
        else:
            main = self._sections(namespace, sections, "s", base, used, failures, missing)
        footer = self._sections(namespace, tenant.footer, "f", base, used, failures, missing)
        return _Regions(header, main, footer, tuple(used), not failures)

    def _sections(
        self,
        namespace: str,
        sections: Sequence[Section],
        prefix: str,
        base: dict[str, Any],
        used: list[str],
        failures: list[bool],
        missing: Missing,
    ) -> Markup:
        parts = []
        for index, section in enumerate(sections):
            plugin = section.type.partition("/")[0] if "/" in section.type else None
            if plugin is not None and plugin in missing.plugins:
                parts.append(missing.placeholder(plugin, index))
                continue
            try:
                template = self._section_template(namespace, section.type, section.variant)
            except TemplateNotFound:
                if plugin is None:
                    raise
                # A broken plugin's section (kept by validation so the site still loads): shown as missing.
                parts.append(Missing(frozenset({plugin}), missing.preview).placeholder(plugin, index))
                continue
            view = SectionView(section.type, section.variant, index, f"{prefix}{index}")
            html, ok = self._run(template, {**base, "props": section.props, "section": view})
            parts.append(html)
            used.append(self._name_of(template))
            if not ok:
                failures.append(True)
        # Every part is already safe Markup: a plain join, not Markup.join, which would escape each again.
        return Markup("\n".join(parts))  # noqa: S704

    def _render_one(self, namespace: str, name: str, kind: str, base: dict[str, Any], used: list[str]) -> Markup:
        view = SectionView(kind, DEFAULT_VARIANT, 0, "m0")
        template = self._template(namespace, name)
        used.append(self._name_of(template))
        return self._run(template, {**base, "props": {}, "section": view})[0]

    def _name_of(self, template: Template) -> str:
        """The template's file relative to its root, as explain mode shows it."""
        filename = template.filename or template.name or "?"
        name = self._relative.get(filename)
        if name is None:
            name = self._relative[filename] = self.loader.folders.label(filename)
        return name

    def _run(self, template: Template, context: dict[str, Any]) -> tuple[Markup, bool]:
        """The section's HTML, and whether it rendered; a failure leaves a marker instead of the section."""
        section: SectionView = context["section"]
        started = perf_counter_ns()
        try:
            html = template.render(context)
        except Exception:
            self.sections.observe_ns(perf_counter_ns() - started, section.type)
            # One broken tenant template must not take the page down: log it, leave a marker, go on.
            log.exception(
                "tenant %s: section %s failed to render with %s",
                context["tenant"].id,
                section.type,
                self._name_of(template),
            )
            return Markup(f"<!-- section {section.index} failed to render -->"), False  # noqa: S704
        self.sections.observe_ns(perf_counter_ns() - started, section.type)
        return Markup(html), True  # noqa: S704 - the template autoescapes

    def _section_template(self, namespace: str, section_type: str, variant: str) -> Template:
        key = (namespace, section_type, variant)
        template = self._chosen.get(key)
        if template is None or self._reload:
            plugin, slash, own_type = section_type.rpartition("/")
            # A plugin's section `<plugin>/<Type>` is the template `plugins/<plugin>/sections/<Type>.html`.
            folder = f"plugins/{plugin}/sections" if slash else "sections"
            names = [f"{folder}/{own_type}.html"]
            if variant != DEFAULT_VARIANT:
                names.insert(0, f"{folder}/{own_type}.{variant}.html")
            template = self.env.get_template(self.loader.choose(namespace, names))
            self._chosen[key] = template
        return template

    def _template(self, namespace: str, name: str) -> Template:
        return self.env.get_template(f"{namespace}/{name}")

    def _layout(self, namespace: str) -> Template:
        """The page layout; for one that only extends another (the default's `page.html`), that other one.

        Rendering a template that is nothing but `{% extends %}` renders its parent with no block replaced,
        after looking the parent up and passing every piece of output through one more generator.
        """
        resolved = self._layouts.get(namespace)
        if resolved is None:
            resolved = self._template(namespace, PAGE_LAYOUT)
            name = f"{namespace}/{PAGE_LAYOUT}"
            body = self.env.parse(self.loader.get_source(self.env, name)[0]).body
            if len(body) == 1 and isinstance(body[0], nodes.Extends) and isinstance(body[0].template, nodes.Const):
                parent = body[0].template.value
                if isinstance(parent, str):
                    resolved = self.env.get_template(parent, name)
            self._layouts[namespace] = resolved
        return resolved

    def _prepare(self, tenant: Tenant) -> _Prepared:
        key = (tenant.id, tenant.digest)
        prepared = self._prepared.get(key)
        if prepared is None:
            stylesheet = theme_stylesheet(tenant.theme)
            namespace = self.loader.namespace(tenant.id)
            prepared = _Prepared(
                namespace=namespace,
                stylesheet=stylesheet,
                theme_url=f"{THEME_PATH}?v={stylesheet.digest}",
                nav=_navigation(tenant.pages),
                layout=self._layout(namespace),
            )
            self._prepared[key] = prepared
        return prepared


def _regions_size(regions: _Regions) -> int:
    """Bytes held, not characters (a string with one emoji in it takes four bytes per character)."""
    return sys.getsizeof(regions.header) + sys.getsizeof(regions.main) + sys.getsizeof(regions.footer) + 300


def add_template_helpers(env: Environment, assets: AssetCatalog, images: ImageSizes | None = None) -> None:
    """The functions, values and filters every template may use."""
    sizes = images or ImageSizes(None)

    @pass_context
    def responsive(context: Context, src: str) -> ResponsiveImage:
        """`responsive(props.image)`: an asset image's width, height and srcset (partials/image.html uses it)."""
        tenant = context.get("tenant")
        if not isinstance(tenant, Tenant) or not isinstance(src, str):
            return ResponsiveImage(str(src or ""), "", None, None)
        return sizes.image(tenant, src)

    # `base_css`: the URL every layout links, as a plain value (a call costs a sandbox check per render).
    env.globals.update(feature=_feature, asset_url=assets.url, base_css=assets.url("base.css"), responsive=responsive)
    # What pages of tenants without plugins get (and every page a plugin adds nothing to).
    env.globals.update(csp=Markup(DEFAULT_POLICY), plugin_css=(), plugin_head="", plugin_body="", plugins={})  # noqa: S704
    env.filters.update(markdown=markdown_to_html, initials=_initials)


@pass_context
def _feature(context: Context, name: str) -> bool:
    """`{% if feature("aiChat") %}…{% endif %}` gates part of a template on the tenant's feature flags."""
    tenant = context.get("tenant")
    return isinstance(tenant, Tenant) and tenant.feature(name)


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper()


def _label(path: str) -> str:
    if path == "/":
        return "Home"
    return path.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").capitalize()


def _page_title(tenant: Tenant, path: str, title: str | None) -> str:
    if path == "/":
        return title or tenant.name
    return f"{title or _label(path)} · {tenant.name}"


def _navigation(pages: Mapping[str, Page]) -> tuple[NavLink, ...]:
    """Links to the home page and every top-level page, home first, for a Navigation without explicit links."""
    top = [path for path in pages if path.count("/") == 1]
    top.sort(key=lambda path: (path != "/", path))
    return tuple(NavLink(pages[path].title or _label(path), path) for path in top)
