"""The tenant document: parse tenants.json (full form or the domain-keyed shorthand) and validate every part.

Validation collects every problem with its JSON path instead of stopping at the first, so an operator
fixes a broken edit in one pass. Everything slow (validation, defaults) happens here, once per load.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from tenantedge.claims import Claim, HostClaims, host_refusal, is_ip_literal
from tenantedge.css import css_problems
from tenantedge.errors import DocumentError, DocumentTooLarge, HostError, ValidationIssue
from tenantedge.experiments import Experiment, ExperimentParser, running
from tenantedge.gcpause import collector_paused
from tenantedge.hosts import HostTable, normalise_pattern
from tenantedge.jsonpath import ROOT, JsonPath, child, format_path, item
from tenantedge.media.references import media_path, referenced
from tenantedge.props import COLOR, describe, reject_unknown, short, suggest, validate_props
from tenantedge.sections import DEFAULT_VARIANT, FEATURES, SectionRegistry
from tenantedge.seo import DEFAULT_SEO, SEO_PATHS, SeoSettings, parse_seo

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\Z")
PRESETS = ("light", "dark")
# A theme's colours, each with what the dashboard calls it and where it shows.
COLORS: Mapping[str, tuple[str, str]] = {
    "primary": ("Primary", "Buttons, links and highlights."),
    "accent": ("Accent", "Secondary highlights and badges."),
    "background": ("Background", "The page behind every section."),
    "surface": ("Surface", "Cards and panels on the page."),
    "text": ("Text", "Body text and headings."),
    "muted": ("Muted text", "Captions, dates and other quiet text."),
    "border": ("Border", "Lines around cards and between items."),
    "blogBg": ("Blog background", "Behind the blog's list and posts."),
}
COLOR_NAMES = tuple(COLORS)
MAX_PAGE_PATH = 200
_FONT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,63}\Z")
_PAGE_PATH = re.compile(r"/(?:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*)?\Z")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
_TENANT_KEYS = (
    "name",
    "description",
    "lang",
    "domains",
    "aliases",
    "theme",
    "features",
    "components",
    "plugins",
    "layout",
    "pages",
    "published",
    "coming_soon",
    "seo",
    "version",
)
_THEME_KEYS = ("preset", "colors", "fonts", "custom_css", "logo", "favicon", "font_files")
_FONT_FILE_KEYS = ("family", "src", "weight", "style")
FONT_STYLES = ("normal", "italic")
_SECTION_KEYS = ("type", "variant", "props")
_PAGE_KEYS = ("title", "description", "sections", "experiments")

# What a tenant gets when its document leaves these out (the seed's shorthand relies on them).
DEFAULT_HEADER: list[Any] = [{"type": "Navigation"}]
DEFAULT_FOOTER: list[Any] = [{"type": "Footer"}]
DEFAULT_PAGES: dict[str, Any] = {"/": [{"type": "Hero"}, {"type": "Features"}, {"type": "CTA"}]}


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What a document being written may hold, whoever writes it (admin, sync, kv, a tenants.json save).

    Documents already published are read back without them (`limits=None`): they were held to them when written.
    """

    # Each tenant's document as compact JSON, in bytes (TENANTEDGE_MAX_TENANT_BYTES).
    max_bytes: int = 1 << 20
    # Domains and aliases of one tenant together (TENANTEDGE_MAX_DOMAINS).
    max_hosts: int = 1000
    # Sections in one list (a page, the header, the footer) (TENANTEDGE_MAX_SECTIONS).
    max_sections: int = 100
    # A theme's custom CSS, in UTF-8 bytes (TENANTEDGE_MAX_CUSTOM_CSS_BYTES).
    max_custom_css: int = 64 * 1024
    # Hosts tenantedge answers itself (the admin host): no tenant claims them, nor any name under them.
    reserved: frozenset[str] = frozenset()


# The limits when none are configured: the settings' defaults, with no admin host known.
DEFAULT_LIMITS = DocumentLimits()


@dataclass(frozen=True, slots=True)
class Section:
    type: str
    variant: str
    props: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    path: JsonPath
    title: str | None
    description: str | None
    sections: tuple[Section, ...]
    # Its A/B experiments, whatever their state (tenantedge.experiments).
    experiments: tuple[Experiment, ...] = ()
    # The experiments running now, which alone make the page answer per visitor.
    running: tuple[Experiment, ...] = ()


@dataclass(frozen=True, slots=True)
class FontFile:
    """A font the tenant uploaded (WOFF2 or WOFF), loaded with @font-face under its family name."""

    family: str
    asset: str
    weight: int = 400
    style: str = "normal"

    @property
    def url(self) -> str:
        return media_path(self.asset)

    @property
    def format(self) -> str:
        return self.asset.rsplit(".", 1)[1]


@dataclass(frozen=True, slots=True)
class Theme:
    preset: str
    colors: Mapping[str, str]
    fonts: tuple[str, ...]
    custom_css: str
    # Uploaded assets by id (tenantedge.media.references): the site's logo, and its /favicon.ico.
    logo: str | None = None
    favicon: str | None = None
    font_files: tuple[FontFile, ...] = ()

    @property
    def logo_url(self) -> str | None:
        return media_path(self.logo) if self.logo else None

    @property
    def favicon_url(self) -> str | None:
        return media_path(self.favicon) if self.favicon else None


@dataclass(frozen=True, slots=True)
class Tenant:
    """A validated tenant: everything needed to route to it and render its pages."""

    id: str
    name: str
    description: str
    lang: str
    domains: tuple[str, ...]
    aliases: tuple[str, ...]
    theme: Theme
    features: Mapping[str, bool]
    components: frozenset[str]
    header: tuple[Section, ...]
    footer: tuple[Section, ...]
    pages: Mapping[str, Page]
    version: int
    # Changes whenever anything in the tenant's document changes, even if its version was not bumped.
    digest: str
    # False until the tenant's first publish: its hosts stay claimed but answer as unknown hosts do.
    published: bool = True
    # Until then, its hosts show a "coming soon" page with its name and theme instead of the "no site here" page.
    coming_soon: bool = False
    # Its robots.txt and sitemap.xml, as the document overrides them.
    seo: SeoSettings = DEFAULT_SEO
    # The plugins it enables, by name, each with its settings validated and defaults filled in. They are part of
    # the document, so of its digest: a settings change renders every page again.
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def canonical_domain(self) -> str:
        return self.domains[0]

    def feature(self, name: str) -> bool:
        return self.features.get(name, False)


@dataclass(frozen=True, slots=True)
class TenantSet:
    """Every tenant of one document and the host table that routes to them."""

    tenants: Mapping[str, Tenant]
    hosts: HostTable
    # Each tenant's document as compact JSON, when asked for (publishing to Redis or S3).
    documents: Mapping[str, bytes] = field(default_factory=dict)

    def summary(self) -> str:
        pages = sum(len(tenant.pages) for tenant in self.tenants.values())
        return f"{len(self.tenants)} tenants, {len(self.hosts)} domains, {pages} pages"


def parse_document(
    data: bytes,
    source: str,
    registry: SectionRegistry,
    previous: TenantSet | None = None,
    *,
    documents: bool = False,
    limits: DocumentLimits = DEFAULT_LIMITS,
) -> TenantSet:
    """Parse and validate a whole tenants document; raise DocumentError listing every issue.

    Tenants whose JSON is unchanged since `previous` are reused as they are, so an edit of one tenant
    among thousands re-validates one tenant. With `documents`, each tenant's JSON is kept too, for
    publishing to Redis or S3 (otherwise it would only cost memory).
    """
    with collector_paused():
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            issue = ValidationIssue.at(ROOT, f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}")
            raise DocumentError(source, [issue]) from e
        return parse_tree(raw, source, registry, previous, documents=documents, limits=limits)


def parse_tree(
    raw: object,
    source: str,
    registry: SectionRegistry,
    previous: TenantSet | None = None,
    *,
    documents: bool = False,
    limits: DocumentLimits = DEFAULT_LIMITS,
) -> TenantSet:
    """`parse_document` for a document already decoded from JSON."""
    with collector_paused():
        return _parse_tree(raw, source, registry, previous, documents, limits)


def _parse_tree(
    raw: object,
    source: str,
    registry: SectionRegistry,
    previous: TenantSet | None,
    documents: bool,
    limits: DocumentLimits,
) -> TenantSet:
    issues: list[ValidationIssue] = []
    entries = _tenant_entries(raw, issues)
    tenants: dict[str, Tenant] = {}
    claimed = HostClaims()
    shared = _Shared()
    kept: dict[str, bytes] = {}
    for tenant_id, tenant_raw, path in entries:
        known = previous.tenants.get(tenant_id) if previous else None
        if known is not None and known.digest == _digest(tenant_raw):
            tenant: Tenant | None = known
        elif (too_large := _too_large(tenant_raw, path, limits)) is not None:
            issues.append(too_large)
            continue
        else:
            tenant = _parse_tenant(tenant_id, tenant_raw, path, registry, issues, shared, limits)
        if tenant is not None:
            _claim_hosts(tenant, path, claimed, issues)
            tenants[tenant_id] = tenant
            if documents:
                kept[tenant_id] = compact_json(tenant_raw)
    if issues:
        raise DocumentError(source, issues)
    hosts = HostTable()
    for tenant in tenants.values():
        hosts.add(tenant.id, tenant.domains, tenant.aliases)
    return TenantSet(tenants, hosts, kept)


def parse_tenant(
    tenant_id: str,
    raw: object,
    registry: SectionRegistry,
    source: str = "tenant",
    *,
    limits: DocumentLimits | None = DEFAULT_LIMITS,
) -> Tenant:
    """Parse and validate one tenant document on its own (as stored per key, or sent to the admin API).

    A document being written is held to `limits` (DocumentTooLarge first of all, before any other check);
    one read back as published passes None.
    """
    if limits is not None and (too_large := _too_large(raw, ROOT, limits)) is not None:
        raise DocumentTooLarge(source, [too_large])
    issues: list[ValidationIssue] = []
    if not TENANT_ID.match(tenant_id):
        issues.append(ValidationIssue.at(ROOT, _bad_id(tenant_id)))
    tenant = _parse_tenant(tenant_id, raw, ROOT, registry, issues, _Shared(), limits)
    if issues or tenant is None:
        raise DocumentError(source, issues)
    return tenant


def is_page_path(path: str) -> bool:
    """A page path as documents may use it: '/' or '/about/team', with no '.' or '..' segment, at most
    MAX_PAGE_PATH characters (a draft is a file named after it, and a file name has 255 bytes at most)."""
    return (
        len(path) <= MAX_PAGE_PATH
        and bool(_PAGE_PATH.match(path))
        and not any(part in (".", "..") for part in path.split("/"))
    )


def full_form(raw: object) -> dict[str, Any]:
    """A tenants document in the full form `{"tenants": {id: {...}}}`, whichever form it was written in.

    Raises DocumentError when the document is not one (the caller has usually validated it already).
    """
    issues: list[ValidationIssue] = []
    entries = _tenant_entries(raw, issues)
    if issues:
        raise DocumentError("tenants document", issues)
    return {"tenants": {tenant_id: doc for tenant_id, doc, _ in entries}}


def _tenant_entries(raw: object, issues: list[ValidationIssue]) -> list[tuple[str, Any, JsonPath]]:
    """(id, document, path) for each tenant, from the full form or the domain-keyed shorthand."""
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(ROOT, f"expected an object with a 'tenants' key, found {describe(raw)}"))
        return []
    if "tenants" not in raw:
        return _shorthand_entries(raw, issues)
    for key in raw:
        if key not in ("tenants", "$schema"):
            issues.append(ValidationIssue.at((key,), "unknown top-level key; expected only 'tenants' (and '$schema')"))
    tenants = raw["tenants"]
    if not isinstance(tenants, dict):
        issues.append(
            ValidationIssue.at(("tenants",), f"expected an object of tenants by id, found {describe(tenants)}")
        )
        return []
    entries = []
    for tenant_id, doc in tenants.items():
        path = child(("tenants",), tenant_id)
        if not TENANT_ID.match(tenant_id):
            issues.append(ValidationIssue.at(path, _bad_id(tenant_id)))
            continue
        entries.append((tenant_id, doc, path))
    return entries


def _shorthand_entries(raw: dict[str, Any], issues: list[ValidationIssue]) -> list[tuple[str, Any, JsonPath]]:
    """`{"example.com": {"theme": "dark"}}`: the key is the domain, the id is derived from it."""
    entries = []
    seen: dict[str, str] = {}
    for domain, doc in raw.items():
        path = child(ROOT, domain)
        if "." not in domain:
            hint = suggest(domain, ("tenants",))
            issues.append(ValidationIssue.at(path, f"expected a domain like 'example.com' as a shorthand key{hint}"))
            continue
        try:
            host = normalise_pattern(domain)
        except HostError as e:
            issues.append(ValidationIssue.at(path, f"{e} (in the shorthand form every key is a domain)"))
            continue
        tenant_id = host.removeprefix("*.").replace(".", "-")[:63].strip("-")
        if tenant_id in seen:
            issues.append(ValidationIssue.at(path, f"derives tenant id {tenant_id!r}, as does {seen[tenant_id]!r}"))
            continue
        seen[tenant_id] = domain
        doc = {} if doc is None else doc
        if isinstance(doc, dict):
            extra = doc.get("domains", [])
            doc = {**doc, "domains": [domain, *extra] if isinstance(extra, list) else extra}
        entries.append((tenant_id, doc, path))
    if not raw:
        issues.append(
            ValidationIssue.at(ROOT, "no tenants: expected {'tenants': {id: {...}}} or {'example.com': {...}}")
        )
    return entries


def _parse_tenant(
    tenant_id: str,
    raw: object,
    path: JsonPath,
    registry: SectionRegistry,
    issues: list[ValidationIssue],
    shared: _Shared,
    limits: DocumentLimits | None,
) -> Tenant | None:
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected a tenant object, found {describe(raw)}"))
        return None
    reject_unknown(raw, _TENANT_KEYS, path, issues)
    features = _features(raw.get("features", {}), child(path, "features"), issues)
    components = _components(raw.get("components", []), child(path, "components"), registry, features, issues)
    max_sections, max_css = (None, None) if limits is None else (limits.max_sections, limits.max_custom_css)
    plugins = _plugins(raw.get("plugins", {}), child(path, "plugins"), registry, issues)
    context = _SectionContext(registry, features, components, issues, shared, max_sections, frozenset(plugins))
    layout = raw.get("layout", {})
    if not isinstance(layout, dict):
        issues.append(ValidationIssue.at(child(path, "layout"), f"expected an object, found {describe(layout)}"))
        layout = {}
    reject_unknown(layout, ("header", "footer"), child(path, "layout"), issues)
    layout_path = child(path, "layout")
    domains, aliases = _hosts(raw, path, issues, limits)
    # In the order of the document's usual layout, so that issues are listed in it.
    name = _text(raw, "name", path, issues, default=tenant_id, limit=200)
    description = _text(raw, "description", path, issues, default="", limit=500)
    lang = _lang(raw.get("lang", "en"), child(path, "lang"), issues)
    theme = _theme(raw.get("theme", {}), child(path, "theme"), issues, max_css)
    header = context.sections(layout.get("header", DEFAULT_HEADER), child(layout_path, "header"))
    footer = context.sections(layout.get("footer", DEFAULT_FOOTER), child(layout_path, "footer"))
    pages = _pages(raw.get("pages", DEFAULT_PAGES), child(path, "pages"), context)
    seo = parse_seo(raw["seo"], child(path, "seo"), pages, issues) if "seo" in raw else DEFAULT_SEO
    _features_in_use(context.switched_off, path, issues)
    return Tenant(
        id=tenant_id,
        name=name,
        description=description,
        lang=lang,
        domains=domains,
        aliases=aliases,
        theme=theme,
        features=features,
        components=frozenset(components),
        header=header,
        footer=footer,
        pages=pages,
        version=_version(raw.get("version", 1), child(path, "version"), issues),
        digest=_digest(raw),
        published=_flag(raw.get("published", True), child(path, "published"), issues, "not served until published"),
        coming_soon=_flag(
            raw.get("coming_soon", False), child(path, "coming_soon"), issues, "a coming-soon page until published"
        ),
        seo=seo,
        plugins=plugins,
    )


def _plugins(
    raw: object, path: JsonPath, registry: SectionRegistry, issues: list[ValidationIssue]
) -> dict[str, Mapping[str, Any]]:
    """Each enabled plugin's settings, checked against its schema; a broken plugin's are kept unchecked."""
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected an object of plugin settings by name, found {describe(raw)}"))
        return {}
    enabled: dict[str, Mapping[str, Any]] = {}
    for name, settings in raw.items():
        where = child(path, name)
        schema = registry.plugins.get(name)
        if schema is None:
            installed = ", ".join(sorted(registry.plugins)) or "none"
            issues.append(
                ValidationIssue.at(
                    where, f"unknown plugin {name!r}{suggest(name, registry.plugins)}; installed: {installed}"
                )
            )
        elif schema.broken is not None:
            # Its schema is unknown: kept as written, so the site keeps serving and the settings are back with it.
            enabled[name] = settings if isinstance(settings, dict) else {}
        else:
            enabled[name] = validate_props(schema.settings, settings, where, issues)
    return enabled


def compact_json(value: object) -> bytes:
    """JSON bytes that take only their own size: orjson's result keeps a 4 KB allocation until copied."""
    return bytes(memoryview(orjson.dumps(value)))


def _digest(raw: object) -> str:
    return hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass(slots=True)
class _Shared:
    """Sections validated once per document: tenants that use a section with the same props share it,
    which keeps 10,000 tenants built from the same defaults small in memory."""

    sections: dict[tuple[str, str, bytes], Section] = field(default_factory=dict)


@dataclass(slots=True)
class _SectionContext:
    """What section validation needs to know about the tenant the sections belong to."""

    registry: SectionRegistry
    features: Mapping[str, bool]
    components: list[str]
    issues: list[ValidationIssue]
    shared: _Shared
    max_sections: int | None  # None: a document already published, held to the limits when it was written
    # The plugins the tenant enables: their sections are the only plugin sections it may use.
    plugins: frozenset[str] = frozenset()
    # Sections whose feature the document switches off (`false`), by feature: reported once, at the feature.
    switched_off: dict[str, list[tuple[str, JsonPath]]] = field(default_factory=dict)

    def sections(self, raw: object, path: JsonPath) -> tuple[Section, ...]:
        if not isinstance(raw, list):
            self.issues.append(ValidationIssue.at(path, f"expected a list of sections, found {describe(raw)}"))
            return ()
        if self.max_sections is not None and len(raw) > self.max_sections:
            expected = f"expected at most {self.max_sections} sections (TENANTEDGE_MAX_SECTIONS), found {len(raw)}"
            self.issues.append(ValidationIssue.at(path, expected))
        parsed = (self.section(element, item(path, index)) for index, element in enumerate(raw))
        return tuple(section for section in parsed if section is not None)

    def section(self, raw: object, path: JsonPath) -> Section | None:
        issues = self.issues
        if not isinstance(raw, dict):
            issues.append(
                ValidationIssue.at(path, f"expected a section object like {{'type': 'Hero'}}, found {describe(raw)}")
            )
            return None
        reject_unknown(raw, _SECTION_KEYS, path, issues)
        section_type = raw.get("type")
        if not isinstance(section_type, str):
            issues.append(
                ValidationIssue.at(child(path, "type"), f"expected a section type, found {describe(section_type)}")
            )
            return None
        spec = self.registry.get(section_type)
        if spec is None:
            return self._unknown(section_type, raw, path)
        if spec.plugin is not None and spec.plugin not in self.plugins:
            issues.append(ValidationIssue.at(child(path, "type"), _not_enabled(section_type, spec.plugin)))
            return None
        if spec.feature and self.features.get(spec.feature) is False:
            self.switched_off.setdefault(spec.feature, []).append((section_type, path))
        elif spec.feature and not self.features.get(spec.feature, False):
            issues.append(
                ValidationIssue.at(
                    child(path, "type"),
                    f"section {section_type!r} needs feature {spec.feature!r}, which is off for this tenant",
                )
            )
        elif spec.component and section_type not in self.components:
            issues.append(
                ValidationIssue.at(
                    child(path, "type"),
                    f"component {section_type!r} is not enabled for this tenant (add it to 'components')",
                )
            )
        variant = raw.get("variant", DEFAULT_VARIANT)
        if variant not in spec.variants:
            choices = ", ".join(map(repr, spec.variants))
            hint = suggest(variant, spec.variants) if isinstance(variant, str) else ""
            issues.append(
                ValidationIssue.at(
                    child(path, "variant"),
                    f"unknown variant {short(variant)} of {section_type!r}{hint}; expected one of {choices}",
                )
            )
            variant = DEFAULT_VARIANT
        raw_props = raw.get("props", {})
        # Keyed by a hash: orjson's output keeps spare capacity, 36,000 of them as keys cost 70 MB.
        key = (section_type, variant, hashlib.blake2b(orjson.dumps(raw_props, option=orjson.OPT_SORT_KEYS)).digest())
        known = self.shared.sections.get(key)
        if known is not None:
            return known
        before = len(issues)
        section = Section(section_type, variant, validate_props(spec.props, raw_props, child(path, "props"), issues))
        if len(issues) == before:
            self.shared.sections[key] = section
        return section

    def _unknown(self, section_type: str, raw: Mapping[str, Any], path: JsonPath) -> Section | None:
        """A section type the registry lacks: a broken plugin's (kept, shown as a placeholder) or an error."""
        plugin, slash, _ = section_type.partition("/")
        schema = self.registry.plugins.get(plugin) if slash else None
        where = child(path, "type")
        if schema is not None and plugin not in self.plugins:
            self.issues.append(ValidationIssue.at(where, _not_enabled(section_type, plugin)))
        elif schema is not None and schema.broken is not None:
            props = raw.get("props", {})
            return Section(
                section_type, str(raw.get("variant", DEFAULT_VARIANT)), props if isinstance(props, dict) else {}
            )
        elif slash and schema is None:
            self.issues.append(
                ValidationIssue.at(where, f"unknown section {section_type!r}: no plugin {plugin!r} is installed")
            )
        else:
            hint = suggest(section_type, self.registry.names())
            self.issues.append(ValidationIssue.at(where, f"unknown section {section_type!r}{hint}"))
        return None


def _not_enabled(section_type: str, plugin: str) -> str:
    enable = "add it under 'plugins'"
    return f"section {section_type!r} comes from plugin {plugin!r}, which this tenant does not enable ({enable})"


def _pages(raw: object, path: JsonPath, context: _SectionContext) -> dict[str, Page]:
    issues = context.issues
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected an object of pages by path, found {describe(raw)}"))
        return {}
    pages: dict[str, Page] = {}
    experiments = ExperimentParser(context.section, context.sections, issues, is_page_path)
    for page_path, value in raw.items():
        where = child(path, page_path)
        if not is_page_path(page_path):
            issues.append(
                ValidationIssue.at(
                    where,
                    "expected a path like '/' or '/about/team' (letters, digits, '.', '_', '~', '-'; no trailing '/')",
                )
            )
            continue
        if page_path == "/_edge" or page_path.startswith("/_edge/"):
            issues.append(ValidationIssue.at(where, "paths under /_edge/ are reserved for tenantedge"))
            continue
        if page_path in SEO_PATHS:
            issues.append(ValidationIssue.at(where, f"{page_path} is generated from the pages; change it under 'seo'"))
            continue
        if isinstance(value, dict):
            reject_unknown(value, _PAGE_KEYS, where, issues)
            title = _text(value, "title", where, issues, default=None, limit=200)
            description = _text(value, "description", where, issues, default=None, limit=500)
            sections = context.sections(value.get("sections", []), child(where, "sections"))
            found = experiments.page(value.get("experiments", []), child(where, "experiments"), sections)
        else:
            title = description = None
            sections = context.sections(value, where)
            found = ()
        pages[page_path] = Page(page_path, title, description, sections, found, running(found))
    if raw and "/" not in raw:
        issues.append(ValidationIssue.at(path, "a home page '/' is required"))
    return pages


def _features(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> dict[str, bool]:
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected an object of feature flags, found {describe(raw)}"))
        return {}
    features = {}
    for name, value in raw.items():
        where = child(path, name)
        if name not in FEATURES:
            issues.append(
                ValidationIssue.at(
                    where, f"unknown feature {name!r}{suggest(name, FEATURES)}; known: {', '.join(FEATURES)}"
                )
            )
        elif not isinstance(value, bool):
            issues.append(ValidationIssue.at(where, f"expected true or false, found {describe(value)}"))
        else:
            features[name] = value
    return features


def _features_in_use(
    switched_off: Mapping[str, list[tuple[str, JsonPath]]], path: JsonPath, issues: list[ValidationIssue]
) -> None:
    """One issue per feature switched off while sections need it, at the feature, naming where they are."""
    shown = 3
    for feature, found in switched_off.items():
        uses = sorted(found, key=lambda use: use[1][len(path)] != "pages")  # pages first, as the message names them
        types = " and ".join(dict.fromkeys(section_type for section_type, _ in uses))
        positions = ", ".join(format_path(where) for _, where in uses[:shown]) + (", …" if len(uses) > shown else "")
        places = _places([where[len(path) :] for _, where in uses])
        issues.append(
            ValidationIssue.at(
                child(child(path, "features"), feature),
                f"switching off {feature!r} leaves {types} sections {places} ({positions}): remove them first",
            )
        )


def _places(wheres: list[JsonPath]) -> str:
    """Where sections are, from their paths inside the tenant: "on pages '/', '/help' and in the header"."""
    pages = list(dict.fromkeys(str(where[1]) for where in wheres if where[0] == "pages"))
    layout = list(dict.fromkeys(f"the {where[1]}" for where in wheres if where[0] == "layout"))
    parts = [f"on page{'s' if len(pages) > 1 else ''} {', '.join(map(repr, pages))}"] if pages else []
    if layout:
        parts.append("in " + " and ".join(layout))
    return " and ".join(parts)


def _flag(raw: object, path: JsonPath, issues: list[ValidationIssue], meaning: str) -> bool:
    if isinstance(raw, bool):
        return raw
    issues.append(ValidationIssue.at(path, f"expected true or false ({meaning}), found {short(raw)}"))
    return False


def _components(
    raw: object, path: JsonPath, registry: SectionRegistry, features: Mapping[str, bool], issues: list[ValidationIssue]
) -> list[str]:
    if not isinstance(raw, list):
        issues.append(ValidationIssue.at(path, f"expected a list of component names, found {describe(raw)}"))
        return []
    names = []
    for index, name in enumerate(raw):
        where = item(path, index)
        spec = registry.get(name) if isinstance(name, str) else None
        if spec is None or not spec.component:
            known = registry.components()
            hint = suggest(name, known) if isinstance(name, str) else ""
            issues.append(
                ValidationIssue.at(where, f"unknown component {short(name)}{hint}; expected one of {', '.join(known)}")
            )
        elif spec.feature and not features.get(spec.feature, False):
            issues.append(ValidationIssue.at(where, f"component {name!r} needs feature {spec.feature!r}, which is off"))
        else:
            names.append(name)
    return names


def _theme(raw: object, path: JsonPath, issues: list[ValidationIssue], max_css: int | None) -> Theme:
    if isinstance(raw, str):
        raw = {"preset": raw}
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected a preset name or a theme object, found {describe(raw)}"))
        raw = {}
    reject_unknown(raw, _THEME_KEYS, path, issues)
    preset = raw.get("preset", "light")
    if preset not in PRESETS:
        hint = suggest(preset, PRESETS) if isinstance(preset, str) else ""
        issues.append(
            ValidationIssue.at(child(path, "preset"), f"expected one of {PRESETS}, found {short(preset)}{hint}")
        )
        preset = "light"
    colors: dict[str, str] = {}
    colors_raw = raw.get("colors", {})
    if not isinstance(colors_raw, dict):
        issues.append(ValidationIssue.at(child(path, "colors"), f"expected an object, found {describe(colors_raw)}"))
        colors_raw = {}
    for name, value in colors_raw.items():
        where = child(child(path, "colors"), name)
        if name not in COLOR_NAMES:
            issues.append(
                ValidationIssue.at(
                    where, f"unknown colour {name!r}{suggest(name, COLOR_NAMES)}; known: {', '.join(COLOR_NAMES)}"
                )
            )
        elif not isinstance(value, str) or not COLOR.match(value):
            issues.append(ValidationIssue.at(where, f"expected a hex colour like '#7c3aed', found {short(value)}"))
        else:
            colors[name] = value.lower()
    fonts_raw = raw.get("fonts", [])
    fonts: list[str] = []
    if not isinstance(fonts_raw, list):
        issues.append(
            ValidationIssue.at(child(path, "fonts"), f"expected a list of font names, found {describe(fonts_raw)}")
        )
        fonts_raw = []
    for index, font in enumerate(fonts_raw):
        if isinstance(font, str) and _FONT.match(font):
            fonts.append(font)
        else:
            issues.append(
                ValidationIssue.at(
                    item(child(path, "fonts"), index),
                    f"expected a font family name (letters, digits, spaces, '-'), found {short(font)}",
                )
            )
    css = raw.get("custom_css", "")
    if not isinstance(css, str):
        issues.append(ValidationIssue.at(child(path, "custom_css"), f"expected a string of CSS, found {describe(css)}"))
        css = ""
    elif max_css is not None and len(css.encode()) > max_css:
        expected = f"expected at most {max_css} bytes (TENANTEDGE_MAX_CUSTOM_CSS_BYTES), found {len(css.encode())}"
        issues.append(ValidationIssue.at(child(path, "custom_css"), expected))
        css = ""
    else:
        issues.extend(ValidationIssue.at(child(path, "custom_css"), problem) for problem in css_problems(css))
    logo, favicon = (_theme_asset(raw, name, path, issues) for name in ("logo", "favicon"))
    font_files = _font_files(raw.get("font_files", []), child(path, "font_files"), issues)
    return Theme(preset, colors, tuple(fonts), css, logo, favicon, font_files)


def _font_files(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> tuple[FontFile, ...]:
    if not isinstance(raw, list):
        issues.append(ValidationIssue.at(path, f"expected a list of font files, found {describe(raw)}"))
        return ()
    found: list[FontFile] = []
    for index, entry in enumerate(raw):
        where = item(path, index)
        if not isinstance(entry, dict):
            expected = "expected {'family': name, 'src': 'asset:<id>.woff2'}"
            issues.append(ValidationIssue.at(where, f"{expected}, found {describe(entry)}"))
            continue
        reject_unknown(entry, _FONT_FILE_KEYS, where, issues)
        family, src = entry.get("family"), entry.get("src")
        weight, style = entry.get("weight", 400), entry.get("style", "normal")
        asset = referenced(src)
        checks = (
            ("family", isinstance(family, str) and _FONT.match(family), "a font family name"),
            ("src", asset is not None and asset.endswith((".woff2", ".woff")), "an uploaded font, 'asset:<id>.woff2'"),
            ("weight", type(weight) is int and 1 <= weight <= 1000, "a weight from 1 to 1000"),
            ("style", style in FONT_STYLES, f"one of {FONT_STYLES}"),
        )
        found_values = {"family": family, "src": src, "weight": weight, "style": style}
        problems = [
            (key, f"expected {expected}, found {short(found_values[key])}") for key, ok, expected in checks if not ok
        ]
        issues.extend(ValidationIssue.at(child(where, key), message) for key, message in problems)
        if not problems and isinstance(family, str) and asset is not None:
            found.append(FontFile(family, asset, weight, style))
    return tuple(found)


def _theme_asset(raw: dict[str, Any], name: str, path: JsonPath, issues: list[ValidationIssue]) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    asset = referenced(value)
    if asset is None:
        expected = "an uploaded asset, 'asset:<sha256>.<ext>' (the id the upload answered)"
        issues.append(ValidationIssue.at(child(path, name), f"expected {expected}, found {short(value)}"))
    return asset


def _too_large(raw: object, path: JsonPath, limits: DocumentLimits) -> ValidationIssue | None:
    """Measured as compact JSON, whatever the form it came in (a pretty-printed file, a request body)."""
    size = len(orjson.dumps(raw))
    if size <= limits.max_bytes:
        return None
    return ValidationIssue.at(
        path,
        f"expected a tenant document of at most {limits.max_bytes} bytes (TENANTEDGE_MAX_TENANT_BYTES), "
        f"found {size} bytes of compact JSON",
    )


def _hosts(
    raw: Mapping[str, Any], path: JsonPath, issues: list[ValidationIssue], limits: DocumentLimits | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tenant's domains and aliases; over the limit, only the count is reported (each is not checked)."""
    domains_raw, aliases_raw = raw.get("domains"), raw.get("aliases", [])
    if limits is not None:
        counted = len(domains_raw) if isinstance(domains_raw, list) else 0
        total = counted + (len(aliases_raw) if isinstance(aliases_raw, list) else 0)
        if total > limits.max_hosts:
            where = "domains" if counted > limits.max_hosts else "aliases"
            issues.append(
                ValidationIssue.at(
                    child(path, where),
                    f"expected at most {limits.max_hosts} domains and aliases (TENANTEDGE_MAX_DOMAINS), found {total}",
                )
            )
            return (), ()
    domains = _domains(domains_raw, child(path, "domains"), issues, limits, required=True)
    aliases = _domains(aliases_raw, child(path, "aliases"), issues, limits, required=False)
    held = {domain: index for index, domain in enumerate(domains)}
    for index, alias in enumerate(aliases):
        if alias in held:
            where = format_path(item(child(path, "domains"), held[alias]))
            issues.append(
                ValidationIssue.at(
                    item(child(path, "aliases"), index),
                    f"domain {alias!r} is already claimed by this tenant at {where}",
                )
            )
    return domains, aliases


def _domains(
    raw: object, path: JsonPath, issues: list[ValidationIssue], limits: DocumentLimits | None, *, required: bool
) -> tuple[str, ...]:
    if raw is None and required:
        issues.append(ValidationIssue.at(path, "required: a list of domains, the first one canonical"))
        return ()
    if not isinstance(raw, list) or (required and not raw):
        issues.append(
            ValidationIssue.at(
                path, f"expected a {'non-empty ' if required else ''}list of domains, found {describe(raw)}"
            )
        )
        return ()
    hosts: dict[str, None] = {}  # a set that keeps the order: the first domain is canonical
    for index, domain in enumerate(raw):
        where = item(path, index)
        if not isinstance(domain, str):
            issues.append(ValidationIssue.at(where, f"expected a domain name, found {describe(domain)}"))
            continue
        try:
            host = normalise_pattern(domain)
        except HostError as e:
            message = f"{domain!r} is an IP address; a tenant needs a hostname" if is_ip_literal(domain) else str(e)
            issues.append(ValidationIssue.at(where, message))
            continue
        refusal = host_refusal(domain, host, limits.reserved) if limits is not None else None
        if refusal is not None:
            issues.append(ValidationIssue.at(where, refusal))
        elif host.startswith("*.") and (not required or index == 0):
            role = "the first domain is canonical" if required else "aliases redirect to one place"
            issues.append(ValidationIssue.at(where, f"a wildcard cannot be used here: {role}"))
        elif host in hosts:
            issues.append(ValidationIssue.at(where, f"{host!r} is listed twice"))
        else:
            hosts[host] = None
    return tuple(hosts)


def _claim_hosts(tenant: Tenant, path: JsonPath, claimed: HostClaims, issues: list[ValidationIssue]) -> None:
    """No two tenants claim overlapping hosts: the same one, one under the other's wildcard, or a wildcard over
    the other's hosts. The later claim in the document is the one refused."""
    for key, hosts in (("domains", tenant.domains), ("aliases", tenant.aliases)):
        for index, host in enumerate(hosts):
            where = item(child(path, key), index)
            clash = claimed.clash(tenant.id, host)
            if clash is None:
                claimed.register(Claim(tenant.id, host, format_path(where)))
                continue
            redacted = ValidationIssue.at(where, clash.redacted(host))
            issues.append(ValidationIssue(format_path(where), clash.message(host), redacted=redacted))


def _text(
    raw: Mapping[str, Any], key: str, path: JsonPath, issues: list[ValidationIssue], *, default: str | None, limit: int
) -> Any:
    value = raw.get(key, default)
    if value is default:
        return value
    if not isinstance(value, str) or len(value) > limit:
        issues.append(
            ValidationIssue.at(
                child(path, key), f"expected text of at most {limit} characters, found {describe(value)}"
            )
        )
        return default
    return value


def _lang(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> str:
    if isinstance(raw, str) and _LANG.match(raw):
        return raw
    issues.append(ValidationIssue.at(path, f"expected a language tag like 'en' or 'pt-BR', found {short(raw)}"))
    return "en"


def _version(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return raw
    issues.append(ValidationIssue.at(path, f"expected a whole number of at least 1, found {short(raw)}"))
    return 1


def _bad_id(tenant_id: str) -> str:
    return f"tenant id {tenant_id!r} must be 1-63 lowercase letters, digits or '-', starting with a letter or digit"
