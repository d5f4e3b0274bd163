"""The admin API's plugin handlers: what is installed, each plugin's settings schema, and plugins' own routes.

A plugin's routes live under `/api/plugins/<plugin>/tenants/<tenant>/…`: the same token check and the same tenant
scope as every other route decide before the plugin is called, and the plugin is told which tenant it serves.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tenantedge.admin.auth import Grant
from tenantedge.admin.responses import JSON, MERGE_PATCH, JsonResponse, read_json
from tenantedge.admin.service import AdminService
from tenantedge.errors import ApiError, NotFound
from tenantedge.plugins.contract import AdminRequest
from tenantedge.sections import SectionRegistry

if TYPE_CHECKING:
    from tenantedge.plugins.host import PluginHost


_WITH_BODY = ("POST", "PUT", "PATCH")


class PluginHandlers:
    service: AdminService
    plugins: PluginHost | None
    max_body: int
    _registry: SectionRegistry

    def plugin_json(self, name: str) -> dict[str, Any]:
        """A plugin as the dashboard reads it: its schema, and the hooks it implements when it loaded."""
        schema = self._registry.plugins[name]
        loaded = self.plugins.discovered.loaded.get(name) if self.plugins is not None else None
        hooks = sorted(loaded.hooks) if loaded is not None else []
        return {**schema.to_json(), "hooks": hooks}

    async def list_plugins(self, request: Request, grant: Grant) -> Response:
        return JsonResponse({"plugins": [self.plugin_json(name) for name in sorted(self._registry.plugins)]})

    async def get_plugin(self, request: Request, grant: Grant) -> Response:
        name = request.path_params["plugin"]
        if name not in self._registry.plugins:
            raise NotFound(f"no plugin {name!r} is installed")
        return JsonResponse(self.plugin_json(name))

    async def plugin_route(self, request: Request, grant: Grant) -> Response:
        """A plugin's own admin route, for a tenant the token reaches and which enables the plugin."""
        name, tenant_id, path = (request.path_params[key] for key in ("plugin", "tenant", "rest"))
        # A JSON API like the rest: a body is JSON (415 otherwise, 413 past TENANTEDGE_ADMIN_MAX_BODY).
        # PATCH takes a merge patch too, as the document says of every PATCH; the plugin reads either as JSON.
        types = (JSON, MERGE_PATCH) if request.method == "PATCH" else (JSON,)
        body = orjson.dumps(await read_json(request, self.max_body, types)) if request.method in _WITH_BODY else b""
        tenant = await self.service.tenant(tenant_id)  # NotFound for a tenant that does not exist
        if self.plugins is None or name not in tenant.plugins or ".." in path.split("/"):
            raise NotFound(f"tenant {tenant_id}: no route {path!r} of plugin {name!r}")
        answer = await self.plugins.admin(
            name,
            AdminRequest(
                tenant_id=tenant_id,
                method=request.method,
                path=path,
                settings=MappingProxyType(dict(tenant.plugins[name])),
                query=request.url.query,
                body=body,
                grant=grant.name,
                database=self.plugins.database(tenant_id),
            ),
        )
        if answer.status >= 400:
            detail = answer.body.decode("utf-8", "replace") if isinstance(answer.body, bytes) else answer.body
            raise ApiError(answer.status, detail or f"plugin {name} answered {answer.status}")
        headers = {"cache-control": "no-store"}
        return Response(answer.body, answer.status, media_type=answer.content_type, headers=headers)
