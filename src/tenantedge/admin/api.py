"""The admin JSON API on the admin host: one table of operations feeds both the routes and the OpenAPI document."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from tenantedge.admin.assetsapi import AssetHandlers
from tenantedge.admin.auth import Grant, TokenRing
from tenantedge.admin.changes import describe
from tenantedge.admin.console import COOKIE, ConsoleHandlers, check_csrf, refusal
from tenantedge.admin.disclosure import shown_failure, shown_issues
from tenantedge.admin.jsondiff import diff
from tenantedge.admin.limiter import FailureLimiter
from tenantedge.admin.nosniff import NoSniff
from tenantedge.admin.operations import (
    DIFF_FROM,
    DIFF_TO,
    LIMIT,
    MAX_VERSION,
    OFFSET,
    OPERATIONS,
    RECORDS,
    REMOVE_SECTIONS,
    SEARCH,
    SECTIONS_OF,
    SORT,
    THEME_OF,
    TOP,
    Operation,
)
from tenantedge.admin.pluginsapi import PluginHandlers
from tenantedge.admin.postsapi import PostHandlers
from tenantedge.admin.responses import (
    JSON,
    MERGE_PATCH,
    JsonResponse,
    bearer,
    etag,
    if_match,
    path_integer,
    problem,
    query_choice,
    query_integer,
    read_json,
)
from tenantedge.admin.service import AdminService
from tenantedge.errors import (
    ApiError,
    AssetRefused,
    BackendError,
    DocumentError,
    DocumentTooLarge,
    NotFound,
    PreconditionRequired,
    VersionConflict,
)
from tenantedge.experiments import Chosen, choose
from tenantedge.media.references import MEDIA_PREFIX
from tenantedge.render.additions import NO_ADDITIONS
from tenantedge.render.pages import THEME_PATH, PageRenderer
from tenantedge.render.theme import PRESETS as THEME_PRESETS
from tenantedge.sections import FEATURES, SectionRegistry
from tenantedge.telemetry.minutes import WINDOW, hour_totals
from tenantedge.telemetry.requests import RENDER_BUCKETS_MS
from tenantedge.tenants import COLORS, TENANT_ID, Tenant, is_page_path

if TYPE_CHECKING:
    from tenantedge.content.db import ContentDatabase
    from tenantedge.http.endpoints import OperatorEndpoints
    from tenantedge.media.library import AssetLibrary
    from tenantedge.media.maker import VariantMaker
    from tenantedge.plugins.host import PluginHost
    from tenantedge.telemetry.minutes import TenantMinutes
    from tenantedge.telemetry.propagation import Propagation

log = logging.getLogger("tenantedge.admin")


Handler = Callable[[Request, Grant], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class AdminApi(PostHandlers, AssetHandlers, ConsoleHandlers, PluginHandlers):
    """The handlers; each gets a request whose token was checked and the grant that token carries."""

    def __init__(
        self,
        service: AdminService,
        registry: SectionRegistry,
        renderer: PageRenderer,
        tokens: TokenRing,
        limiter: FailureLimiter,
        *,
        max_body: int = 1 << 20,
        openapi: dict[str, Any] | None = None,
        database: ContentDatabase | None = None,
        operator: OperatorEndpoints | None = None,
        assets: AssetLibrary | None = None,
        variants: VariantMaker | None = None,
        stats: TenantMinutes | None = None,
        propagation: Propagation | None = None,
        plugins: PluginHost | None = None,
    ) -> None:
        self.service = service
        self.plugins = plugins
        self.assets = assets
        self.variants = variants
        self._registry = registry
        self._renderer = renderer
        self._tokens = tokens
        self._limiter = limiter
        self.max_body = max_body
        self._openapi = openapi or {}
        self.database = database
        self._operator = operator
        self._stats = stats
        self._propagation = propagation

    def routes(self, websocket: Callable[..., Awaitable[None]] | None = None) -> list[BaseRoute]:
        by_path: dict[str, dict[str, Endpoint]] = {}
        for op in OPERATIONS:
            by_path.setdefault(op.path, {})[op.method] = self._endpoint(op)
        routes: list[BaseRoute] = [
            Route(_starlette_path(path), _by_method(endpoints), methods=list(endpoints), name=path)
            for path, endpoints in by_path.items()
        ]
        if websocket is not None:
            routes.append(WebSocketRoute("/ws", websocket))
        return routes

    def app(self, websocket: Callable[..., Awaitable[None]] | None = None) -> Starlette:
        return Starlette(
            routes=self.routes(websocket),
            middleware=[Middleware(NoSniff)],
            exception_handlers={HTTPException: _routing_problem},
        )

    async def authorize(self, request: Request) -> Grant:
        """The grant of the request's token (bearer header or cookie); 401, or 429 after too many failures."""
        presented = bearer(request.headers.get("authorization"))
        cookie = request.cookies.get(COOKIE) if presented is None else None
        grant = self._tokens.check(presented or cookie)
        if grant is None:
            unauthorized = ApiError(
                401,
                "a valid admin token is required (Authorization: Bearer …)",
                headers={"www-authenticate": 'Bearer realm="tenantedge"'},
            )
            raise await refusal(self._limiter, request, presented or cookie, unauthorized)
        if cookie is not None:
            check_csrf(request, cookie)  # the browser sent the cookie by itself: prove the page is ours
        return grant

    def _endpoint(self, op: Operation) -> Endpoint:
        handler: Handler = getattr(self, op.handler)

        async def endpoint(request: Request) -> Response:
            grant: Grant | None = None
            try:
                grant = Grant("public") if op.public else await self.authorize(request)
                tenant_id = request.path_params.get("tenant")
                if tenant_id is not None and (not TENANT_ID.match(tenant_id) or not grant.allows(tenant_id)):
                    raise NotFound(f"no tenant {tenant_id!r}")
                return await handler(request, grant)
            except ApiError as e:
                return problem(e)
            except AssetRefused as e:
                return problem(ApiError(e.status, str(e)))
            except DocumentTooLarge as e:
                return problem(ApiError(413, f"{e.source}: {e.issues[0].message}"))
            except DocumentError as e:
                issues = shown_issues(e, grant)
                return problem(ApiError(422, f"{e.source}: the document does not validate", issues=issues))
            except NotFound as e:
                return problem(ApiError(404, str(e)))
            except VersionConflict as e:
                extra = {"etag": etag(e.current)} if e.current is not None else {}
                return problem(ApiError(409, str(e), headers=extra))
            except PreconditionRequired as e:
                return problem(ApiError(428, str(e)))
            except BackendError as e:
                log.error("%s %s: %s", request.method, request.url.path, e)
                return problem(ApiError(503, shown_failure(e, grant), headers={"retry-after": "2"}))

        endpoint.__name__ = op.handler
        return endpoint

    # -- handlers ----------------------------------------------------------------------------------------

    async def openapi(self, request: Request, grant: Grant) -> Response:
        return JsonResponse(self._openapi)

    async def sections(self, request: Request, grant: Grant) -> Response:
        """The section library, with what the dashboard shows for the features and theme colours it offers; with
        `?tenant=`, the sections that tenant may use: with those of the plugins it enables (a palette without a
        tenant shows the built-in ones, which every tenant may use)."""
        tenant_id = request.query_params.get(SECTIONS_OF.name)
        if tenant_id is None:
            specs = self._registry.available(())
        elif not TENANT_ID.match(tenant_id) or not grant.allows(tenant_id):
            raise NotFound(f"no tenant {tenant_id!r}")
        else:
            specs = self._registry.available((await self.service.tenant(tenant_id)).plugins)
        return JsonResponse(
            {
                "sections": [spec.to_json() for spec in specs],
                "features": [{"name": name, "title": f.title, "help": f.help} for name, f in FEATURES.items()],
                "colors": [{"name": name, "title": title, "help": text} for name, (title, text) in COLORS.items()],
                "presets": {name: dict(colors) for name, colors in THEME_PRESETS.items()},
            }
        )

    async def list_tenants(self, request: Request, grant: Grant) -> Response:
        query = request.query_params.get(SEARCH.name, "")
        offset = query_integer(request, OFFSET)
        limit = query_integer(request, LIMIT)
        total, items = await self.service.list_tenants(query, offset, limit, grant.tenants)
        body = {
            "total": total,
            "offset": offset,
            "limit": limit,
            "items": [
                {"id": s.id, "name": s.name, "domains": s.domains, "version": s.version, "published": s.published}
                for s in items
            ],
        }
        return JsonResponse(body, headers={"cache-control": "no-store"})

    async def create_tenant(self, request: Request, grant: Grant) -> Response:
        body = await self._json(request)
        tenant_id = body.pop("id", None) if isinstance(body, dict) else None
        if not isinstance(tenant_id, str) or not TENANT_ID.match(tenant_id):
            raise ApiError(
                422,
                "the body needs an 'id': lowercase letters, digits and '-', at most 63",
                issues=[{"path": "id", "message": "expected a tenant id like 'acme-shop'"}],
            )
        if not grant.allows(tenant_id):
            raise NotFound(f"no tenant {tenant_id!r} for this token")
        document = await self.service.create(tenant_id, body, grant.name)
        return _document(document, 201, {"location": f"/api/tenants/{tenant_id}"})

    async def get_tenant(self, request: Request, grant: Grant) -> Response:
        return _document(await self.service.get(request.path_params["tenant"]))

    async def replace_tenant(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        body = await self._json(request)
        remove = query_integer(request, REMOVE_SECTIONS) == 1
        return _document(
            await self.service.replace(tenant_id, body, if_match(request), grant.name, remove_sections=remove)
        )

    async def patch_tenant(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        body = await self._json(request, (JSON, MERGE_PATCH))
        remove = query_integer(request, REMOVE_SECTIONS) == 1
        return _document(
            await self.service.patch(tenant_id, body, if_match(request), grant.name, remove_sections=remove)
        )

    async def delete_tenant(self, request: Request, grant: Grant) -> Response:
        await self.service.delete(request.path_params["tenant"], if_match(request), grant.name)
        return Response(status_code=204)

    async def list_pages(self, request: Request, grant: Grant) -> Response:
        pages, version = await self.service.pages(request.path_params["tenant"])
        return JsonResponse({"pages": sorted(pages)}, headers={"etag": etag(version), "cache-control": "no-store"})

    async def get_page(self, request: Request, grant: Grant) -> Response:
        page, version = await self.service.page(request.path_params["tenant"], _page(request))
        body = {"path": page.path, "page": page.value}
        return JsonResponse(body, headers={"etag": etag(version), "cache-control": "no-store"})

    async def put_page(self, request: Request, grant: Grant) -> Response:
        tenant_id, path = request.path_params["tenant"], _page(request)
        body = await self._json(request)
        return _document(await self.service.put_page(tenant_id, path, body, if_match(request), grant.name))

    async def delete_page(self, request: Request, grant: Grant) -> Response:
        tenant_id, path = request.path_params["tenant"], _page(request)
        return _document(await self.service.delete_page(tenant_id, path, if_match(request), grant.name))

    async def list_drafts(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        await self.service.get(tenant_id)
        return JsonResponse({"drafts": await self.service.drafts(tenant_id)}, headers={"cache-control": "no-store"})

    async def get_draft(self, request: Request, grant: Grant) -> Response:
        record = await self.service.draft(request.path_params["tenant"], _page(request))
        return JsonResponse(record, headers={"cache-control": "no-store"})

    async def save_draft(self, request: Request, grant: Grant) -> Response:
        tenant_id, path = request.path_params["tenant"], _page(request)
        body = await self._json(request)
        return JsonResponse(await self.service.save_draft(tenant_id, path, body, grant.name))

    async def delete_draft(self, request: Request, grant: Grant) -> Response:
        await self.service.delete_draft(request.path_params["tenant"], _page(request))
        return Response(status_code=204)

    async def publish_draft(self, request: Request, grant: Grant) -> Response:
        tenant_id, path = request.path_params["tenant"], _page(request)
        return _document(await self.service.publish(tenant_id, path, if_match(request), grant.name))

    async def publish_tenant(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        return _document(await self.service.publish_tenant(tenant_id, if_match(request), grant.name))

    async def history(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        versions = await self.service.history(tenant_id)
        if not versions:
            await self.service.get(tenant_id)  # 404 for a tenant that never existed
        # Who and when, for the newest `limit` versions (each is a read of its record).
        limit = query_integer(request, RECORDS)
        records = []
        for version in versions[:limit]:
            record = await self.service.version(tenant_id, version)
            records.append({key: record.get(key) for key in ("version", "saved_at", "by", "action")})
        return JsonResponse({"versions": versions, "records": records}, headers={"cache-control": "no-store"})

    async def check_tenant(self, request: Request, grant: Grant) -> Response:
        """Validate a document as a write would, storing nothing: for forms that check as the admin types."""
        tenant_id = request.path_params["tenant"]
        try:
            await self.service.check(tenant_id, await self._json(request))
        except DocumentTooLarge:
            raise  # not answered: the document was not validated
        except DocumentError as e:
            # The question was answered: "no, because…" (a 4xx would read as a failed request to a browser).
            issues = shown_issues(e, grant)
            return JsonResponse({"valid": False, "issues": issues}, headers={"cache-control": "no-store"})
        return JsonResponse({"valid": True, "issues": []}, headers={"cache-control": "no-store"})

    async def get_version(self, request: Request, grant: Grant) -> Response:
        version = path_integer(request, "version", 1, MAX_VERSION)
        return JsonResponse(await self.service.version(request.path_params["tenant"], version))

    async def diff(self, request: Request, grant: Grant) -> Response:
        old = query_integer(request, DIFF_FROM)
        new = query_integer(request, DIFF_TO)
        before, after = await self.service.documents(request.path_params["tenant"], old, new)
        body = {"from": old, "to": new, "changes": diff(before, after), "summary": describe(before, after)}
        return JsonResponse(body, headers={"cache-control": "no-store"})

    async def describe_changes(self, request: Request, grant: Grant) -> Response:
        body = await self._json(request)
        ends = [body.get(key) if isinstance(body, dict) else None for key in ("from", "to")]
        if not isinstance(ends[0], dict) or not isinstance(ends[1], dict):
            raise ApiError(
                422,
                'expected {"from": document, "to": document}, two tenant documents',
                issues=[
                    {"path": key, "message": "expected a tenant document (an object)"}
                    for key, end in zip(("from", "to"), ends, strict=True)
                    if not isinstance(end, dict)
                ],
            )
        return JsonResponse({"summary": describe(ends[0], ends[1])}, headers={"cache-control": "no-store"})

    async def rollback(self, request: Request, grant: Grant) -> Response:
        body = await self._json(request)
        version = body.get("version") if isinstance(body, dict) else None
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
            raise ApiError(
                422,
                'expected {"version": n}, the version to restore',
                issues=[{"path": "version", "message": f"expected an integer from 1 to {MAX_VERSION}"}],
            )
        tenant_id = request.path_params["tenant"]
        return _document(await self.service.rollback(tenant_id, version, if_match(request), grant.name))

    async def preview(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        path = "/" + request.path_params["page"]
        if path == THEME_PATH:
            draft_of = request.query_params.get(THEME_OF.name, "/")
            tenant = await self.service.preview(tenant_id, draft_of if is_page_path(draft_of) else "/")
            stylesheet = self._renderer.stylesheet(tenant)
            css = _preview_media(stylesheet.body.decode(), tenant_id)
            return Response(css, media_type="text/css", headers=_PRIVATE)
        if path.startswith(MEDIA_PREFIX):
            return await self.preview_media(tenant_id, path.removeprefix(MEDIA_PREFIX))
        if not is_page_path(path):
            raise NotFound(f"tenant {tenant_id}: no page {path!r}")
        tenant = await self.service.preview(tenant_id, path)
        await self._renderer.images.prepare(tenant)
        additions = await self.plugins.additions(tenant, path) if self.plugins is not None else NO_ADDITIONS
        # A preview is no visit: the plugins' head and body-end markup (analytics, widgets) stays out, and the
        # admin's CSP would refuse their scripts anyway. Their sections and context still render.
        additions = replace(additions, head=(), body_end=(), csp=NO_ADDITIONS.csp)
        rendered = self._renderer.render_page(
            tenant, path, additions, preview=True, chosen=_forced(tenant, path, request)
        )
        if rendered is None:
            raise NotFound(f"tenant {tenant_id}: no page {path!r}, published or drafted")
        # The page's stylesheet link points at the public theme URL; the preview's own theme answers here.
        theme_url = f"/preview/{tenant_id}{THEME_PATH}?page={path}&amp;v="
        html = rendered.html.replace(f'href="{THEME_PATH}?v=', f'href="{theme_url}', 1)
        html = _preview_media(html, tenant_id)
        return Response(html, media_type="text/html", headers={**_PRIVATE, "x-robots-tag": "noindex"})

    async def tenant_stats(self, request: Request, grant: Grant) -> Response:
        tenant_id = request.path_params["tenant"]
        stats = self._stats_source()
        await self.service.get(tenant_id)  # NotFound for a tenant that does not exist
        minutes = await stats.series(tenant_id)
        last = await self._propagation.last_publish(tenant_id) if self._propagation is not None else None
        body = {
            "tenant": tenant_id,
            "shared": stats.shared,
            "render_buckets_ms": RENDER_BUCKETS_MS,
            "totals": hour_totals(minutes),
            "minutes": minutes,
            "last_publish": last.to_json() if last is not None else None,
        }
        return JsonResponse(body, headers=_PRIVATE)

    async def ranking(self, request: Request, grant: Grant) -> Response:
        sort = query_choice(request, SORT)
        limit = query_integer(request, TOP)
        items = await self._stats_source().ranking(sort, limit, grant.tenants)
        body = {"sort": sort, "minutes": WINDOW, "shared": self._stats_source().shared, "items": items}
        return JsonResponse(body, headers=_PRIVATE)

    def _stats_source(self) -> TenantMinutes:
        if self._stats is None:
            raise NotFound("requests are not counted here: set TENANTEDGE_METRICS=1 for per-tenant figures")
        return self._stats

    async def metrics(self, request: Request, grant: Grant) -> Response:
        return await self._operations().metrics(request)

    async def ready(self, request: Request, grant: Grant) -> Response:
        return await self._operations().ready(request)

    def _operations(self) -> OperatorEndpoints:
        if self._operator is None:
            raise NotFound("this admin serves no operator endpoints")
        return self._operator

    async def _json(self, request: Request, types: tuple[str, ...] = (JSON,)) -> Any:
        return await read_json(request, self.max_body, types)


_PRIVATE = {
    "cache-control": "no-store, private",
    # A preview is tenant content shown on the admin's origin: no script in it may run there, and only the
    # dashboard may frame it.
    "content-security-policy": (
        "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
}


# A media URL where a page or stylesheet names one (an attribute, a srcset entry, a CSS url()).
_MEDIA_URL = re.compile(r"(?<=[\"'\s,(])" + re.escape(MEDIA_PREFIX))


def _forced(tenant: Tenant, path: str, request: Request) -> Chosen | None:
    """The variants a preview asks for, `?variant=<experiment>:<variant>` (repeatable), of the page's experiments
    in any state; the others show their control. Only previews read it: the public edge ignores the query."""
    page = tenant.pages.get(path)
    if page is None or not page.experiments:
        return None
    wanted = dict(value.partition(":")[::2] for value in request.query_params.getlist("variant"))
    return choose(page.sections, page.experiments, None, wanted)


def _preview_media(text: str, tenant_id: str) -> str:
    """The preview is shown on the admin host: its media URLs point at the admin's copy of the tenant's assets."""
    return _MEDIA_URL.sub(f"/preview/{tenant_id}{MEDIA_PREFIX}", text)


def _document(document: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    out = {"cache-control": "no-store", **(headers or {})}
    if "version" in document:
        out["etag"] = etag(document["version"])
    return JsonResponse(document, status, out)


def _page(request: Request) -> str:
    path = "/" + str(request.path_params["page"])
    if not is_page_path(path):
        raise ApiError(404, f"{path!r} is not a page path (like '/' or '/about/team')")
    return path


def _by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    """One route per path, so that a 405's Allow lists every method of the path (Starlette's names one route's)."""

    async def endpoint(request: Request) -> Response:
        return await endpoints["GET" if request.method == "HEAD" else request.method](request)

    return endpoint


async def _routing_problem(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no such path) and 405 (no such method), in the API's problem shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} {request.url.path}: the method is not allowed; allowed: {allowed}"
    else:
        detail = f"{request.method} {request.url.path}: no such resource"
    return problem(ApiError(exc.status_code, detail, headers=dict(exc.headers or {})))


def _starlette_path(path: str) -> str:
    return path.replace("{page}", "{page:path}").replace("{rest}", "{rest:path}")
