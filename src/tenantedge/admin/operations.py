"""The admin API's operations, one row each: how it is routed, what it needs and what it answers.

The routes (`api.py`) and the OpenAPI document (`openapi.py`) are both made from this table, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenantedge.media.kinds import KINDS

JSON = "application/json"
MAX_PAGE = 500
MAX_OFFSET = 1 << 31
# Nine digits: a post's version is a PostgreSQL integer, and the If-Match pattern can say this bound exactly.
MAX_VERSION = 999_999_999


@dataclass(frozen=True, slots=True)
class Query:
    """A query parameter: text, or an integer with its bounds and default (an integer with no default is required)."""

    name: str
    description: str
    bounds: tuple[int, int] | None = None
    default: int | None = None
    choices: tuple[str, ...] = ()  # a text parameter that takes one of these (the first by default)


SEARCH = Query("q", "text found in the id, name or a domain")
OFFSET = Query("offset", "how many to skip", (0, MAX_OFFSET), 0)
LIMIT = Query("limit", f"how many to return (at most {MAX_PAGE})", (1, MAX_PAGE), 50)
RECORDS = Query("limit", "how many versions to describe in `records` (default 20, at most 200)", (0, 200), 20)
DIFF_FROM = Query("from", "the older version", (1, MAX_VERSION))
DIFF_TO = Query("to", "the newer version", (1, MAX_VERSION))
REMOVE_SECTIONS = Query(
    "remove_sections",
    "1: also remove the sections and components of every feature the write leaves switched off (`false`), "
    "in the same write (0, the default: such a write is refused with 422 naming them)",
    (0, 1),
    0,
)
FILENAME = Query("filename", "for a raw body (not multipart/form-data): the file's name, as the library shows it")
SORT = Query(
    "sort",
    "what to rank by: requests, errors (4xx and 5xx), render_time (ms spent rendering) or bytes",
    choices=("requests", "errors", "render_time", "bytes"),
)
TOP = Query("limit", "how many tenants to list (at most 500)", (1, 500), 20)
SECTIONS_OF = Query(
    "tenant",
    "a tenant id: the sections it may use, with those of the plugins it enables (without it: built-in sections only)",
)
THEME_OF = Query("page", "for the theme stylesheet (`_edge/theme.css`): the page whose draft's theme to show")


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation: how it is routed, and what the OpenAPI document says of it."""

    method: str
    path: str
    handler: str
    summary: str
    body: str | None = None  # the request body's schema name in the OpenAPI components
    returns: str | None = None  # the 2xx body's schema name; None for no body
    status: int = 200
    errors: tuple[int, ...] = (401, 404)
    query: tuple[Query, ...] = ()
    if_match: bool = False
    public: bool = False
    uploads: bool = False  # the body is a file: multipart/form-data (part `file`) or raw bytes
    media: tuple[str, ...] = (JSON,)  # the 2xx body's media types
    tags: tuple[str, ...] = field(default=("tenants",))
    operation_id: str | None = None  # the OpenAPI operationId when one handler serves several methods


_WRITE_ERRORS = (400, 401, 404, 409, 413, 415, 422, 428)
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/",
        "console",
        "The dashboard (sign in with a token)",
        returns="Html",
        errors=(),
        public=True,
        media=("text/html",),
        tags=("console",),
    ),
    Operation(
        "GET",
        "/ui/{asset}",
        "console_asset",
        "The dashboard's script and stylesheet",
        returns="Html",
        errors=(404,),
        public=True,
        media=("text/javascript", "text/css", "text/html"),
        tags=("console",),
    ),
    Operation(
        "POST",
        "/api/session",
        "sign_in",
        "Trade a token for an HttpOnly session cookie and a CSRF token (state-changing requests authenticated "
        "by the cookie must send the CSRF token as X-CSRF-Token)",
        body="SignIn",
        returns="Session",
        errors=(400, 401, 413, 415, 429),
        public=True,
        tags=("console",),
    ),
    Operation(
        "GET",
        "/api/session",
        "whoami",
        "Who the session cookie belongs to and which tenants it reaches (`name` is null when signed out)",
        returns="Session",
        errors=(),
        public=True,
        tags=("console",),
    ),
    Operation(
        "DELETE",
        "/api/session",
        "sign_out",
        "Forget the session cookies",
        status=204,
        errors=(401, 403),
        tags=("console",),
    ),
    Operation(
        "GET", "/api/openapi.json", "openapi", "This document", returns="Object", errors=(), public=True, tags=("meta",)
    ),
    Operation(
        "GET",
        "/api/sections",
        "sections",
        "The section registry with each section's props schema",
        returns="Sections",
        errors=(401, 404),
        query=(SECTIONS_OF,),
        tags=("sections",),
    ),
    Operation(
        "GET",
        "/api/plugins",
        "list_plugins",
        "Installed plugins: version, hooks, sections and settings schema (props format and JSON Schema) of each; "
        "broken ones say why",
        returns="Plugins",
        errors=(401,),
        tags=("plugins",),
    ),
    Operation(
        "GET",
        "/api/plugins/{plugin}",
        "get_plugin",
        "One installed plugin, with the settings schema a form for `plugins.<name>` of a tenant is made from",
        returns="Plugin",
        tags=("plugins",),
    ),
    *(
        Operation(
            method,
            "/api/plugins/{plugin}/tenants/{tenant}/{rest}",
            "plugin_route",
            "A plugin's own admin route, for a tenant the token reaches and which enables the plugin",
            body="Json" if method in ("POST", "PUT", "PATCH") else None,
            returns="Json",
            errors=(401, 404, 413, 422, 503),
            media=("application/json", "text/plain"),
            tags=("plugins",),
            operation_id=f"plugin_route_{method.lower()}",
        )
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    ),
    Operation(
        "GET",
        "/api/tenants",
        "list_tenants",
        "List tenants, searched by id, name or domain",
        returns="TenantList",
        errors=(400, 401),
        query=(SEARCH, OFFSET, LIMIT),
    ),
    Operation(
        "POST",
        "/api/tenants",
        "create_tenant",
        "Create a tenant (the body carries its `id`)",
        body="NewTenant",
        returns="Tenant",
        status=201,
        errors=(400, 401, 404, 409, 413, 415, 422),
    ),
    Operation(
        "POST",
        "/api/tenants/{tenant}/check",
        "check_tenant",
        "Validate a document as a write would (domains held by other tenants included), storing nothing; "
        "answers {valid, issues}",
        body="Json",
        returns="Object",
        errors=(400, 401, 404, 413, 415),
    ),
    Operation(
        "GET", "/api/tenants/{tenant}", "get_tenant", "A tenant's document; its ETag is its version", returns="Tenant"
    ),
    Operation(
        "PUT",
        "/api/tenants/{tenant}",
        "replace_tenant",
        "Replace a tenant's document",
        body="Tenant",
        returns="Tenant",
        errors=_WRITE_ERRORS,
        query=(REMOVE_SECTIONS,),
        if_match=True,
    ),
    Operation(
        "PATCH",
        "/api/tenants/{tenant}",
        "patch_tenant",
        "Change a tenant with a JSON merge patch (RFC 7396)",
        body="TenantPatch",
        returns="Tenant",
        errors=_WRITE_ERRORS,
        query=(REMOVE_SECTIONS,),
        if_match=True,
    ),
    Operation(
        "DELETE",
        "/api/tenants/{tenant}",
        "delete_tenant",
        "Delete a tenant (its history is kept)",
        status=204,
        errors=(401, 404, 409, 428),
        if_match=True,
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/pages",
        "list_pages",
        "A tenant's pages by path",
        returns="Object",
        tags=("pages",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/pages/{page}",
        "get_page",
        "One page (`{page}` is its path without the leading '/'; empty for the home page)",
        returns="Page",
        tags=("pages",),
    ),
    Operation(
        "PUT",
        "/api/tenants/{tenant}/pages/{page}",
        "put_page",
        "Publish a page (a new tenant version)",
        body="PageValue",
        returns="Tenant",
        errors=_WRITE_ERRORS,
        if_match=True,
        tags=("pages",),
    ),
    Operation(
        "DELETE",
        "/api/tenants/{tenant}/pages/{page}",
        "delete_page",
        "Remove a page (a new tenant version)",
        returns="Tenant",
        errors=(401, 404, 409, 422, 428),
        if_match=True,
        tags=("pages",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/drafts",
        "list_drafts",
        "The pages that have a saved draft",
        returns="Object",
        tags=("drafts",),
    ),
    Operation(
        "GET", "/api/tenants/{tenant}/drafts/{page}", "get_draft", "A page's draft", returns="Draft", tags=("drafts",)
    ),
    Operation(
        "PUT",
        "/api/tenants/{tenant}/drafts/{page}",
        "save_draft",
        "Save a page's draft without publishing it (validated like a published page)",
        body="PageValue",
        returns="Draft",
        errors=(400, 401, 404, 413, 415, 422),
        tags=("drafts",),
    ),
    Operation(
        "DELETE",
        "/api/tenants/{tenant}/drafts/{page}",
        "delete_draft",
        "Discard a page's draft",
        status=204,
        tags=("drafts",),
    ),
    Operation(
        "POST",
        "/api/tenants/{tenant}/publish",
        "publish_tenant",
        'Serve a tenant created with `"published": false` on its hosts (until then they answer as unknown hosts '
        "do); publishing any page's draft does so too",
        returns="Tenant",
        errors=(401, 404, 409, 422, 428),
        if_match=True,
        tags=("drafts",),
    ),
    Operation(
        "POST",
        "/api/tenants/{tenant}/publish/{page}",
        "publish_draft",
        'Publish a page\'s draft (and the tenant, if it was created with `"published": false`)',
        returns="Tenant",
        errors=(401, 404, 409, 422, 428),
        if_match=True,
        tags=("drafts",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/history",
        "history",
        "Every published version, newest first; `records` says who saved the newest ones, when and how",
        returns="Object",
        query=(RECORDS,),
        tags=("history",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/history/{version}",
        "get_version",
        "One published version",
        returns="Version",
        tags=("history",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/diff",
        "diff",
        "The changes between two published versions: `changes` as JSON Pointer operations, `summary` in plain "
        "language grouped by page and section (defaults and the spelling of them are not changes)",
        returns="Diff",
        errors=(400, 401, 404),
        tags=("history",),
        query=(DIFF_FROM, DIFF_TO),
    ),
    Operation(
        "POST",
        "/api/changes",
        "describe_changes",
        "The changes from one tenant document to another in plain language, as the diff's `summary` (for a "
        "conflict: what another admin saved since this one's copy); storing nothing",
        body="ChangesBetween",
        returns="Changes",
        errors=(400, 401, 413, 415, 422),
        tags=("history",),
    ),
    Operation(
        "POST",
        "/api/tenants/{tenant}/rollback",
        "rollback",
        "Publish an old version's content again, as a new version",
        body="Rollback",
        returns="Tenant",
        errors=_WRITE_ERRORS,
        if_match=True,
        tags=("history",),
    ),
    Operation(
        "GET",
        "/preview/{tenant}/{page}",
        "preview",
        "Render a page with its draft applied (never cached, never public); its stylesheet at `_edge/theme.css`, "
        "and the tenant's assets at `_edge/media/{id}` (the admin host is none of the tenant's domains)",
        returns="Html",
        query=(THEME_OF,),
        media=("text/html", "text/css", *sorted({kind.content_type for kind in KINDS.values()})),
        tags=("drafts",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/posts",
        "list_posts",
        "A tenant's blog posts, drafts included, newest change first (needs the content database)",
        returns="PostList",
        errors=(400, 401, 404, 503),
        query=(OFFSET, LIMIT),
        tags=("posts",),
    ),
    Operation(
        "POST",
        "/api/tenants/{tenant}/posts",
        "create_post",
        "Write a post; `status: published` publishes it (an event drops the pages that list posts)",
        body="NewPost",
        returns="Post",
        status=201,
        errors=(400, 401, 404, 409, 413, 415, 422, 503),
        tags=("posts",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/posts/{slug}",
        "get_post",
        "One post; its ETag is its version",
        returns="Post",
        errors=(401, 404, 503),
        tags=("posts",),
    ),
    Operation(
        "PUT",
        "/api/tenants/{tenant}/posts/{slug}",
        "replace_post",
        "Replace a post (publish or unpublish it with `status`)",
        body="Post",
        returns="Post",
        errors=(400, 401, 404, 409, 412, 413, 415, 422, 428, 503),
        if_match=True,
        tags=("posts",),
    ),
    Operation(
        "DELETE",
        "/api/tenants/{tenant}/posts/{slug}",
        "delete_post",
        "Delete a post",
        status=204,
        errors=(401, 404, 409, 412, 428, 503),
        if_match=True,
        tags=("posts",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/assets",
        "list_assets",
        "A tenant's assets (images, icons, fonts), newest first, each with its served path, its reference for "
        "documents (`asset:<id>`) and where the published document uses it; and the bytes used of the quota",
        returns="AssetList",
        tags=("assets",),
    ),
    Operation(
        "POST",
        "/api/tenants/{tenant}/assets",
        "upload_asset",
        "Upload an asset: multipart/form-data with a `file` part, or the raw bytes with the name in `filename`. "
        "The type is told by the content (PNG, JPEG, GIF, WebP, AVIF, ICO, SVG, WOFF2, WOFF), never the name; "
        "201 when stored, 200 when the same bytes were stored already. Refused, storing nothing: too large or over "
        "the tenant's quota (413), another type (415), malformed, absurd dimensions or an SVG with script (422)",
        returns="Asset",
        status=201,
        errors=(400, 401, 404, 413, 415, 422),
        query=(FILENAME,),
        uploads=True,
        tags=("assets",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/assets/{asset_id}",
        "get_asset",
        "One asset's description",
        returns="Asset",
        tags=("assets",),
    ),
    Operation(
        "DELETE",
        "/api/tenants/{tenant}/assets/{asset_id}",
        "delete_asset",
        "Delete an asset; 409 naming the places while the published document uses it",
        status=204,
        errors=(401, 404, 409),
        tags=("assets",),
    ),
    Operation(
        "GET",
        "/_edge/metrics",
        "metrics",
        "The answering worker's counters in the Prometheus text format (scrapers usually read them from the "
        "operations listener, TENANTEDGE_OPS_PORT, which needs no token)",
        returns="Text",
        errors=(401, 429),
        media=("text/plain",),
        tags=("operations",),
    ),
    Operation(
        "GET",
        "/api/tenants/{tenant}/stats",
        "tenant_stats",
        "A tenant's requests, 4xx and 5xx answers, error rate, bytes, render time (ms, with p50 and p95 from a "
        "histogram) and page-cache hits and hit ratio per minute for the last hour, oldest first, and their totals: "
        "every worker's when Redis is configured (`shared`), else the answering worker's; and the last publish, with "
        "how many workers applied it and how long the last one took; 404 while requests are not counted "
        "(TENANTEDGE_METRICS=1 counts them)",
        returns="TenantStats",
        tags=("operations",),
    ),
    Operation(
        "GET",
        "/api/stats",
        "ranking",
        "The busiest tenants of the last hour: totals per tenant, ranked by `sort` (a scoped token sees its own); "
        "404 while requests are not counted (TENANTEDGE_METRICS=1 counts them)",
        returns="StatsRanking",
        errors=(400, 401, 404),
        query=(SORT, TOP),
        tags=("operations",),
    ),
    Operation(
        "GET",
        "/_edge/ready",
        "ready",
        "Each tier's state, checked now: `status` is `ready`, or `degraded` while memory and the other tiers serve",
        returns="Object",
        errors=(401, 429),
        tags=("operations",),
    ),
)
