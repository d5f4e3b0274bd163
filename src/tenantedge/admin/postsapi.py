"""The admin API's blog posts: CRUD for one tenant's posts in PostgreSQL, versioned, scoped and announced."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tenantedge.admin.auth import Grant
from tenantedge.admin.operations import LIMIT, OFFSET
from tenantedge.admin.responses import JsonResponse, etag, if_match, query_integer, read_json
from tenantedge.admin.service import AdminService
from tenantedge.errors import ApiError, NotFound, PreconditionRequired
from tenantedge.events import POST_DELETED, POST_PUBLISHED, POST_UPDATED, Event
from tenantedge.store.publisher import ANY_VERSION

if TYPE_CHECKING:
    from tenantedge.content.db import ContentDatabase
    from tenantedge.content.posts import Post

NO_DATABASE = "posts need a database: set TENANTEDGE_DATABASE_URL (and run `tenantedge migrate`)"


class PostHandlers:
    """Mixed into AdminApi: handlers named in the OPERATIONS table."""

    service: AdminService
    database: ContentDatabase | None
    max_body: int

    async def list_posts(self, request: Request, grant: Grant) -> Response:
        from tenantedge.content import posts

        tenant_id = await self._tenant(request)
        offset = query_integer(request, OFFSET)
        limit = query_integer(request, LIMIT)
        async with self._database().tenant(tenant_id) as session:
            found, total = await posts.every(session, limit, offset)
        body = {"total": total, "offset": offset, "limit": limit, "items": [post.to_json() for post in found]}
        return JsonResponse(body, headers={"cache-control": "no-store"})

    async def create_post(self, request: Request, grant: Grant) -> Response:
        from tenantedge.content import posts

        fields = posts.validate_post(await read_json(request, self.max_body))
        tenant_id = await self._tenant(request)
        async with self._database().tenant(tenant_id) as session:
            post = await posts.create(session, fields)
        await self._announce(tenant_id, post)
        return _post(post, 201, {"location": f"/api/tenants/{tenant_id}/posts/{post.slug}"})

    async def get_post(self, request: Request, grant: Grant) -> Response:
        from tenantedge.content import posts

        tenant_id, slug = await self._tenant(request), request.path_params["slug"]
        async with self._database().tenant(tenant_id) as session:
            post = await posts.by_slug(session, slug, published=False)
        if post is None:
            raise NotFound(f"tenant {tenant_id}: no post {slug!r}")
        return _post(post)

    async def replace_post(self, request: Request, grant: Grant) -> Response:
        from tenantedge.content import posts

        version = _required_version(request)
        fields = posts.validate_post(await read_json(request, self.max_body), slug=request.path_params["slug"])
        tenant_id, slug = await self._tenant(request), request.path_params["slug"]
        async with self._database().tenant(tenant_id) as session:
            post = await posts.update(session, slug, fields, version)
        if post is None:
            raise NotFound(f"tenant {tenant_id}: no post {slug!r}")
        await self._announce(tenant_id, post)
        return _post(post)

    async def delete_post(self, request: Request, grant: Grant) -> Response:
        from tenantedge.content import posts

        version = _required_version(request)
        tenant_id, slug = await self._tenant(request), request.path_params["slug"]
        async with self._database().tenant(tenant_id) as session:
            post = await posts.delete(session, slug, version)
        if post is None:
            raise NotFound(f"tenant {tenant_id}: no post {slug!r}")
        await self.service.announce(Event(POST_DELETED, tenant_id, post.version, post.slug))
        return Response(status_code=204)

    # -- helpers -----------------------------------------------------------------------------------------

    def _database(self) -> ContentDatabase:
        if self.database is None:
            raise ApiError(503, NO_DATABASE)
        return self.database

    async def _tenant(self, request: Request) -> str:
        self._database()
        tenant_id: str = request.path_params["tenant"]
        await self.service.get(tenant_id)  # 404 for a tenant that does not exist
        return tenant_id

    async def _announce(self, tenant_id: str, post: Post) -> None:
        kind = POST_PUBLISHED if post.status == "published" else POST_UPDATED
        await self.service.announce(Event(kind, tenant_id, post.version, post.slug))


def _required_version(request: Request) -> int | None:
    version = if_match(request)
    if version is None:
        raise PreconditionRequired("this write needs If-Match with the post's version (the ETag of a GET)")
    return None if version == ANY_VERSION else version


def _post(post: Post, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    out = {"cache-control": "no-store", "etag": etag(post.version), **(headers or {})}
    return JsonResponse(post.to_json(), status, out)
