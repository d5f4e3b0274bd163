"""The admin API described: the OpenAPI 3.1 document, built from the operations table."""

from __future__ import annotations

from typing import Any

from tenantedge.admin.console import SAFE_METHODS, UI
from tenantedge.admin.operations import MAX_VERSION, OPERATIONS, Operation, Query
from tenantedge.content.posts import FORMATS, SLUG, STATUSES
from tenantedge.experiments import EXPERIMENT_ID, MAX_VARIANTS, MAX_WEIGHT, VARIANT_NAME, ExperimentState, GoalKind
from tenantedge.media.references import ASSET_ID, REFERENCE
from tenantedge.plugins.manifest import PLUGIN_NAME
from tenantedge.props import COLOR
from tenantedge.sections import FEATURES
from tenantedge.seo import MAX_ROBOTS
from tenantedge.telemetry.minutes import WINDOW
from tenantedge.telemetry.requests import RENDER_BUCKETS_MS
from tenantedge.tenants import (
    COLOR_NAMES,
    DEFAULT_LIMITS,
    FONT_STYLES,
    MAX_PAGE_PATH,
    PRESETS,
    TENANT_ID,
    DocumentLimits,
)

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Malformed request: JSON, or a query or path parameter out of its documented range (`issues` names it)",
    401: "No valid admin token",
    403: "Authenticated by the session cookie, without the matching X-CSRF-Token header",
    404: "No such tenant, page, draft, version or post, or not one this token may see",
    409: "The If-Match version is not the current one, or the tenant or post slug exists already",
    412: "If-Match is not a version ETag (`issues` names it)",
    413: "The body is over the size limit",
    415: "The body is not JSON",
    422: (
        "The body does not validate; `issues` gives each JSON path. Some rules are beyond this schema: a domain "
        "another tenant holds, a section's props (GET /api/sections), a home page '/', pages `seo.exclude` names, the "
        "dates a database holds"
    ),
    428: "If-Match is required",
    429: "Too many failed attempts from this address: wait for Retry-After",
    503: "A backend (the content database, S3, Redis) cannot answer, or is not configured",
}


def _exactly(regex: str) -> str:
    """A server-side pattern (`...\\Z`, used with match) as a JSON Schema pattern, anchored at both ends."""
    return "^" + regex.removesuffix("\\Z") + "$"


_TEXT = {"type": "string"}
_FONT = "^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$"
# Post text: PostgreSQL stores no NUL (a `not`, which generators filter cheaply, where a pattern of 200,000
# characters takes them seconds); a title is more than what str.strip() removes (engines disagree on \\s).
_NO_NUL = {"not": {"pattern": "\\x00"}}
_NOT_BLANK = "[^\\x00" + "".join(filter(str.isspace, map(chr, range(0x3001)))) + "]"
_YEARS_2_TO_9998 = "^(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
_ASSET_REFERENCE = {
    "type": "string",
    "pattern": _exactly(REFERENCE.pattern),
    "description": "An uploaded asset of this tenant: 'asset:<sha256>.<ext>' (its `reference`)",
}
_ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
_LABELLED: dict[str, Any] = {
    "type": "object",
    "required": ["name", "title", "help"],
    "properties": {"name": _TEXT, "title": _TEXT, "help": _TEXT},
}
# Sized by the settings (DocumentLimits): components that openapi_document fills in.
_SECTIONS = {"$ref": "#/components/schemas/SectionList"}
_TENANT_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 500},
    "lang": {"type": "string", "pattern": "^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"},
    "domains": {"type": "array", "minItems": 1, "items": _TEXT, "description": "The first one is canonical"},
    "aliases": {"type": "array", "items": _TEXT, "description": "Hosts that redirect to the canonical domain"},
    "theme": {
        "oneOf": [
            {"enum": list(PRESETS)},
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "preset": {"enum": list(PRESETS)},
                    "colors": {
                        "type": "object",
                        "propertyNames": {"enum": list(COLOR_NAMES)},
                        "additionalProperties": {"type": "string", "pattern": _exactly(COLOR.pattern)},
                    },
                    "fonts": {"type": "array", "items": {"type": "string", "pattern": _FONT}},
                    "custom_css": {"$ref": "#/components/schemas/CustomCss"},
                    "logo": _ASSET_REFERENCE,
                    "favicon": _ASSET_REFERENCE,
                    "font_files": {
                        "type": "array",
                        "description": "Uploaded fonts, loaded with @font-face under their family name",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["family", "src"],
                            "properties": {
                                "family": {"type": "string", "pattern": _FONT},
                                "src": {**_ASSET_REFERENCE, "pattern": "^asset:[0-9a-f]{64}\\.(?:woff2|woff)$"},
                                "weight": {"type": "integer", "minimum": 1, "maximum": 1000},
                                "style": {"enum": list(FONT_STYLES)},
                            },
                        },
                    },
                },
            },
        ]
    },
    "features": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            name: {"type": "boolean", "title": feature.title, "description": feature.help}
            for name, feature in FEATURES.items()
        },
    },
    "components": {"type": "array", "items": _TEXT, "description": "Component sections this tenant may use"},
    "published": {
        "type": "boolean",
        "description": "false: not served until its first publish (its hosts answer as unknown hosts do, or with "
        "a coming-soon page); publishing a page's draft or the tenant removes it",
    },
    "coming_soon": {
        "type": "boolean",
        "description": "true: while not published, its hosts show a coming-soon page with its name, description "
        "and theme (200, not indexed) instead of the neutral 'no site here' page",
    },
    "seo": {
        "type": "object",
        "additionalProperties": False,
        "description": "Its /robots.txt and /sitemap.xml, generated from its published pages (and posts) unless set",
        "properties": {
            "robots": {"type": "string", "maxLength": MAX_ROBOTS, "description": "The whole robots.txt, as served"},
            "sitemap": {"type": "boolean", "description": "false: no /sitemap.xml (a 404), nor a Sitemap line"},
            "exclude": {
                "type": "array",
                "items": _TEXT,
                "description": "Paths left out of the sitemap: its pages' paths, or '/blog' for the blog's index",
            },
        },
    },
    "layout": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"header": _SECTIONS, "footer": _SECTIONS},
    },
    "plugins": {
        "type": "object",
        "description": "Plugins this tenant enables, by name, with their settings (GET /api/plugins has their schemas)",
        "propertyNames": {"pattern": "^[a-z][a-z0-9-]{0,39}$"},
        "additionalProperties": _ANY_OBJECT,
    },
    "pages": {
        "type": "object",
        "propertyNames": {"pattern": "^/(?:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*)?$", "maxLength": MAX_PAGE_PATH},
        "additionalProperties": {"$ref": "#/components/schemas/PageValue"},
    },
}
_COUNT = {"type": "integer", "minimum": 0}
_MS_OR_NULL = {"type": ["number", "null"], "minimum": 0}
_STATS_FIGURES: dict[str, Any] = {
    "requests": _COUNT,
    "client_errors": {**_COUNT, "description": "4xx answers"},
    "server_errors": {**_COUNT, "description": "5xx answers (and requests that got no answer)"},
    "bytes": {**_COUNT, "description": "Response body bytes"},
    "render_ms": {"type": "number", "minimum": 0, "description": "Time spent rendering pages (page-cache misses)"},
    "hits": {**_COUNT, "description": "Answers from the page cache"},
    "hit_ratio": {"type": ["number", "null"], "minimum": 0, "maximum": 1, "description": "hits / requests"},
    "error_rate": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "(client_errors + server_errors) / requests; 0 without requests",
    },
    "render_p50_ms": {
        **_MS_OR_NULL,
        "description": (
            "Median render time, from the histogram, interpolated within its bucket (at most the last bound); "
            "null without renders"
        ),
    },
    "render_p95_ms": {**_MS_OR_NULL, "description": "95th percentile render time, as render_p50_ms"},
}
_RENDER_HISTOGRAM = {
    "type": "array",
    "items": _COUNT,
    "minItems": len(RENDER_BUCKETS_MS) + 1,
    "maxItems": len(RENDER_BUCKETS_MS) + 1,
    "description": "Renders per duration bucket: at most each bound of `render_buckets_ms`, then over the last",
}


def _stats_row(description: str, **extra: Any) -> dict[str, Any]:
    fields = {**extra, **_STATS_FIGURES}
    return {
        "type": "object",
        "description": description,
        "required": list(fields),
        "additionalProperties": False,
        "properties": fields,
    }


SCHEMAS: dict[str, Any] = {
    "Object": _ANY_OBJECT,
    "TenantStats": {
        "type": "object",
        "required": ["tenant", "shared", "render_buckets_ms", "totals", "minutes", "last_publish"],
        "properties": {
            "tenant": _TEXT,
            "shared": {"type": "boolean", "description": "Every worker's figures (Redis), or the answering worker's"},
            "render_buckets_ms": {
                "type": "array",
                "items": {"type": "number"},
                "description": "Upper bounds (ms) of the render time buckets",
            },
            "totals": _stats_row("The last hour", render_histogram=_RENDER_HISTOGRAM),
            "minutes": {
                "type": "array",
                "minItems": WINDOW,
                "maxItems": WINDOW,
                "description": "A minute each, oldest first, the current minute last; zeros for a minute unvisited",
                "items": _stats_row(
                    "One minute",
                    minute={"type": "string", "format": "date-time"},
                    render_histogram=_RENDER_HISTOGRAM,
                ),
            },
            "last_publish": {
                "type": ["object", "null"],
                "description": (
                    "The tenant's last publish kept (a day with Redis) and how far it reached: the workers that "
                    "applied it of those alive when it was published; null when none is kept"
                ),
                "required": ["version", "published_at", "workers", "expected_workers", "propagation_seconds"],
                "additionalProperties": False,
                "properties": {
                    "version": {"type": "integer", "minimum": 1},
                    "published_at": {"type": "number", "description": "Unix seconds, the publishing worker's clock"},
                    "workers": {"type": "integer", "minimum": 1, "description": "Workers that applied it"},
                    "expected_workers": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Workers alive at the publish",
                    },
                    "propagation_seconds": {
                        "type": ["number", "null"],
                        "minimum": 0,
                        "description": "From the publish to the last expected worker applying it; null until all did",
                    },
                },
            },
        },
    },
    "StatsRanking": {
        "type": "object",
        "required": ["sort", "minutes", "shared", "items"],
        "properties": {
            "sort": _TEXT,
            "minutes": {"type": "integer", "description": "The minutes added up: the last hour"},
            "shared": {"type": "boolean"},
            "items": {"type": "array", "items": _stats_row("A tenant's last hour", tenant=_TEXT)},
        },
    },
    "Json": {"description": "Any JSON value"},
    "Html": _TEXT,
    "Text": _TEXT,
    "Problem": {
        "type": "object",
        "required": ["status", "title", "detail"],
        "properties": {
            "status": {"type": "integer"},
            "title": _TEXT,
            "detail": _TEXT,
            "issues": {
                "type": "array",
                "items": {"type": "object", "properties": {"path": _TEXT, "message": _TEXT}},
            },
        },
    },
    "Tenant": {
        "type": "object",
        "description": "A tenant document as in tenants.json (see DESIGN.md); `version` is set by the server.",
        "required": ["domains"],
        "additionalProperties": False,
        "properties": {**_TENANT_FIELDS, "version": {"type": "integer", "readOnly": True}},
    },
    "NewTenant": {
        "type": "object",
        "description": "A tenant document with the new tenant's `id`.",
        "required": ["id", "domains"],
        "additionalProperties": False,
        "properties": {"id": {"type": "string", "pattern": _exactly(TENANT_ID.pattern)}, **_TENANT_FIELDS},
    },
    "TenantPatch": {
        "type": "object",
        "description": "A JSON merge patch (RFC 7396) of a tenant document: `null` removes a field.",
        "propertyNames": {"enum": list(_TENANT_FIELDS)},
    },
    "Section": {
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string", "description": "A section of GET /api/sections"},
            "variant": _TEXT,
            "props": _ANY_OBJECT,
        },
    },
    "PageValue": {
        "description": "A list of sections, or {title, description, sections, experiments}.",
        "oneOf": [
            _SECTIONS,
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "title": {"type": ["string", "null"], "maxLength": 200},
                    "description": {"type": ["string", "null"], "maxLength": 500},
                    "sections": _SECTIONS,
                    "experiments": {"type": "array", "items": {"$ref": "#/components/schemas/Experiment"}},
                },
            },
        ],
    },
    "Experiment": {
        "description": (
            "An A/B test of the page: swaps the section at `section` (each variant but the first gives its own "
            "`section`), or, without `section`, the whole list (each variant but the first gives `sections`)"
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "goal", "variants"],
        "properties": {
            "id": {"type": "string", "pattern": _exactly(EXPERIMENT_ID.pattern)},
            "state": {"enum": [state.value for state in ExperimentState]},
            "section": {"type": "integer", "minimum": 0},
            "goal": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {kind.value: _TEXT for kind in GoalKind},
                "additionalProperties": False,
            },
            "variants": {
                "type": "array",
                "minItems": 2,
                "maxItems": MAX_VARIANTS,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "pattern": _exactly(VARIANT_NAME.pattern)},
                        "weight": {"type": "integer", "minimum": 1, "maximum": MAX_WEIGHT},
                        "section": {"$ref": "#/components/schemas/Section"},
                        "sections": _SECTIONS,
                    },
                },
            },
        },
    },
    "Page": {
        "type": "object",
        "properties": {"path": _TEXT, "page": {"$ref": "#/components/schemas/PageValue"}},
    },
    "Draft": {
        "type": "object",
        "properties": {
            "path": _TEXT,
            "base": {"type": "integer"},
            "saved_at": _TEXT,
            "by": _TEXT,
            "page": {"$ref": "#/components/schemas/PageValue"},
        },
    },
    "Version": {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "saved_at": _TEXT,
            "by": _TEXT,
            "action": _TEXT,
            "document": {"$ref": "#/components/schemas/Tenant"},
        },
    },
    "ChangeSummary": {
        "type": "array",
        "description": "Changes in plain language, grouped: the site, theme, features, header, footer, then each page",
        "items": {
            "type": "object",
            "required": ["group", "changes"],
            "properties": {"group": _TEXT, "changes": {"type": "array", "items": _TEXT}},
        },
    },
    "Diff": {
        "type": "object",
        "required": ["from", "to", "changes", "summary"],
        "properties": {
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["op", "path"],
                    "properties": {"op": {"enum": ["add", "remove", "replace"]}, "path": _TEXT, "old": {}, "value": {}},
                },
            },
            "summary": {"$ref": "#/components/schemas/ChangeSummary"},
        },
    },
    "ChangesBetween": {
        "type": "object",
        "required": ["from", "to"],
        "properties": {
            "from": {**_ANY_OBJECT, "description": "A tenant document as it was"},
            "to": {**_ANY_OBJECT, "description": "The same tenant's document as it is now"},
        },
    },
    "Changes": {
        "type": "object",
        "required": ["summary"],
        "properties": {"summary": {"$ref": "#/components/schemas/ChangeSummary"}},
    },
    "Rollback": {
        "type": "object",
        "required": ["version"],
        "properties": {"version": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}},
    },
    "TenantList": {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": _TEXT,
                        "name": _TEXT,
                        "domains": {"type": "array", "items": _TEXT},
                        "version": {"type": "integer"},
                        "published": {"type": "boolean", "description": "false: not served until published"},
                    },
                },
            },
        },
    },
    "Post": {
        "type": "object",
        "required": ["title"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string", "pattern": _exactly(SLUG.pattern)},
            "title": {"type": "string", "maxLength": 200, "pattern": _NOT_BLANK, **_NO_NUL, "description": "Not blank"},
            "excerpt": {"type": "string", "maxLength": 500, **_NO_NUL},
            "body": {
                "type": "string",
                "maxLength": 200_000,
                **_NO_NUL,
                "description": "Markdown, or HTML (cleaned to an allowlist when shown)",
            },
            "body_format": {"enum": list(FORMATS)},
            "tags": {
                "type": "array",
                "maxItems": 20,
                "items": {"type": "string", "minLength": 1, "maxLength": 40, **_NO_NUL},
            },
            "status": {"enum": list(STATUSES)},
            "author": {"type": "string", "maxLength": 120, **_NO_NUL},
            "published_at": {
                "type": ["string", "null"],
                "format": "date-time",
                # Years 1 and 9999 are taken too, where the offset keeps them within range once in UTC.
                "pattern": _YEARS_2_TO_9998,
                "description": "RFC 3339 (UTC when it names no offset) within years 1 to 9999 once in UTC",
            },
            "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
            "version": {"type": "integer", "readOnly": True},
        },
    },
    "NewPost": {"allOf": [{"$ref": "#/components/schemas/Post"}, {"required": ["slug", "title"]}]},
    "PostList": {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Post"}},
        },
    },
    "Asset": {
        "type": "object",
        "required": ["id", "name", "content_type", "size", "path", "reference", "used_in"],
        "properties": {
            "id": {"type": "string", "pattern": _exactly(ASSET_ID.pattern), "description": "sha256.ext"},
            "name": _TEXT,
            "content_type": _TEXT,
            "size": {"type": "integer", "minimum": 1},
            "width": {"type": ["integer", "null"]},
            "height": {"type": ["integer", "null"]},
            "uploaded_at": _TEXT,
            "by": _TEXT,
            "path": {"type": "string", "description": "Where the tenant's domains serve it (/_edge/media/{id})"},
            "reference": {"type": "string", "description": "How a tenant document names it (asset:{id})"},
            "used_in": {"type": "array", "items": _TEXT, "description": "Places the published document uses it"},
        },
    },
    "AssetList": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Asset"}},
            "used_bytes": {"type": "integer"},
            "quota_bytes": {"type": "integer"},
        },
    },
    "SignIn": {"type": "object", "required": ["token"], "properties": {"token": _TEXT}},
    "Session": {
        "type": "object",
        "properties": {
            "name": {"type": ["string", "null"], "description": "null when no valid session cookie came"},
            "tenants": {"type": ["array", "null"], "items": _TEXT},
            "csrf": {"type": ["string", "null"]},
        },
    },
    "Plugin": {
        "type": "object",
        "description": "An installed plugin; a broken one (`broken` says why) has no settings and no sections",
        "required": ["name", "version", "title", "description", "settings", "settings_json_schema", "sections"],
        "properties": {
            "name": {"type": "string", "pattern": _exactly(PLUGIN_NAME.pattern)},
            "version": _TEXT,
            "title": _TEXT,
            "description": _TEXT,
            "settings": {
                "type": "object",
                "description": (
                    "The settings `plugins.<name>` of a tenant takes, read from settings_json_schema into the props "
                    "format of sections (GET /api/sections), which the dashboard's form is made from"
                ),
                "additionalProperties": _ANY_OBJECT,
            },
            "settings_json_schema": {
                "type": ["object", "null"],
                "description": (
                    "The settings schema the plugin ships, a JSON Schema (draft 2020-12) of the supported subset "
                    '(README, "Writing a plugin"); null when it has no settings or is broken'
                ),
            },
            "sections": {"type": "array", "items": _TEXT, "description": "The section types it adds, `<name>/<Type>`"},
            "hooks": {"type": "array", "items": _TEXT, "description": "The hooks it implements, when it loaded"},
            "broken": {"type": ["string", "null"], "description": "Why it could not load; null when it did"},
        },
    },
    "Plugins": {
        "type": "object",
        "required": ["plugins"],
        "properties": {"plugins": {"type": "array", "items": {"$ref": "#/components/schemas/Plugin"}}},
    },
    "Sections": {
        "type": "object",
        "description": "The section library, and the features and theme colours a tenant's settings offer",
        "properties": {
            "sections": {"type": "array", "items": _ANY_OBJECT},
            "features": {"type": "array", "items": _LABELLED},
            "colors": {"type": "array", "items": _LABELLED},
            "presets": {
                "type": "object",
                "description": "Each preset's colours, by colour name",
                "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}
# Path parameters: what each one may be, as the routes take it.
_PATH: dict[str, dict[str, Any]] = {
    "tenant": {"type": "string", "pattern": _exactly(TENANT_ID.pattern)},
    "page": {
        "type": "string",
        "pattern": "^(?:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*)?$",
        "maxLength": MAX_PAGE_PATH - 1,
        "description": "The page's path without its leading '/': empty for the home page",
    },
    "version": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
    "asset_id": {"type": "string", "pattern": _exactly(ASSET_ID.pattern), "description": "The asset's id"},
    "slug": {"type": "string", "pattern": _exactly(SLUG.pattern)},
    "plugin": {"type": "string", "pattern": _exactly(PLUGIN_NAME.pattern)},
    "rest": {
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)*$",
        "maxLength": 200,
        "description": "The plugin's own path",
    },
    "asset": {"enum": sorted(path.name for path in UI.iterdir() if path.suffix in (".js", ".css", ".html"))},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": 'The version being changed, as its ETag ("7"), or *',
    "schema": {"type": "string", "pattern": f'^(?:\\*|"[0-9]{{1,{len(str(MAX_VERSION))}}}")$'},
}


def openapi_document(version: str, limits: DocumentLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the admin API, built from OPERATIONS, with the document limits configured."""
    sized = {  # apart from SCHEMAS, whose names they must not take
        "SectionList": {
            "type": "array",
            "maxItems": limits.max_sections,
            "items": {"$ref": "#/components/schemas/Section"},
        },
        "CustomCss": {"type": "string", "maxLength": limits.max_custom_css, "description": "At most this many bytes"},
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tenantedge admin API",
            "version": version,
            "description": (
                "Served only on the admin host (TENANTEDGE_ADMIN_HOST). Writes need If-Match with the version "
                "ETag of a GET. Events stream on the WebSocket /ws of the same host."
            ),
        },
        "components": {
            "schemas": SCHEMAS | sized,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _operation(op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in _PATH.items()
        if "{" + name + "}" in op.path
    ]
    parameters += [_query(query) for query in op.query]
    if op.if_match:
        parameters.append(_IF_MATCH)
    success: dict[str, Any] = {"description": _REASONS[op.status]}
    if op.returns is not None:
        success["content"] = {media: {"schema": {"$ref": f"#/components/schemas/{op.returns}"}} for media in op.media}
    responses: dict[str, Any] = {str(op.status): success}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in _errors(op):
        responses[str(status)] = {"description": _REASONS[status], "content": problem}
    operation: dict[str, Any] = {
        "operationId": op.operation_id or op.handler,
        "summary": op.summary,
        "tags": list(op.tags),
        "parameters": parameters,
        "responses": responses,
    }
    if op.public:
        operation["security"] = []
    if op.uploads:
        operation["requestBody"] = {"required": True, "content": _UPLOAD}
    if op.body is not None:
        schema = {"$ref": f"#/components/schemas/{op.body}"}
        types = ("application/json", "application/merge-patch+json") if op.method == "PATCH" else ("application/json",)
        operation["requestBody"] = {"required": True, "content": {media: {"schema": schema} for media in types}}
    return operation


_FILE = {"type": "string", "format": "binary"}
_UPLOAD = {
    "multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {"file": _FILE}},
        "encoding": {"file": {"contentType": "application/octet-stream"}},
    },
    "application/octet-stream": {"schema": _FILE},
}


def _errors(op: Operation) -> list[int]:
    """The operation's own error statuses, and those that come with what it takes."""
    found = set(op.errors)
    if not op.public:
        found |= {401, 429} | (set() if op.method in SAFE_METHODS else {403})  # 403: a cookie without CSRF
    if op.public is False and op.path.startswith("/api/tenants"):
        found.add(503)  # the store
    if op.body is not None or op.uploads:
        found |= {400, 413, 415}
    if op.if_match:
        found |= {409, 412, 428}
    if "{" in op.path:
        found.add(404)
    if "{version}" in op.path or any(query.bounds is not None or query.choices for query in op.query):
        found.add(400)
    return sorted(found)


def _query(query: Query) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if query.bounds is not None:
        schema = {"type": "integer", "minimum": query.bounds[0], "maximum": query.bounds[1]}
        if query.default is not None:
            schema["default"] = query.default
    elif query.choices:
        schema = {"type": "string", "enum": list(query.choices), "default": query.choices[0]}
    required = query.bounds is not None and query.default is None
    return {"name": query.name, "in": "query", "required": required, "description": query.description, "schema": schema}
