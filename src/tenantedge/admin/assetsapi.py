"""The admin API's assets: upload (multipart, or a raw body named by `filename`), list, describe and delete one
tenant's assets. The checks are the library's (size, type by content, dimensions, quota), the same as the CLI's."""

from __future__ import annotations

import email.policy
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tenantedge.admin.auth import Grant
from tenantedge.admin.operations import FILENAME
from tenantedge.admin.responses import JsonResponse
from tenantedge.errors import ApiError, NotFound
from tenantedge.events import ASSET_ADDED, ASSET_DELETED, Event
from tenantedge.http.media import SVG_POLICY
from tenantedge.integers import bounded_integer
from tenantedge.media.kinds import SVG, WEBP
from tenantedge.media.library import describe, too_large
from tenantedge.media.references import ASSET_ID
from tenantedge.media.store import AssetStream
from tenantedge.media.variants import VARIANT_ID

if TYPE_CHECKING:
    from tenantedge.admin.service import AdminService
    from tenantedge.media.library import AssetLibrary
    from tenantedge.media.maker import VariantMaker

MULTIPART = "multipart/form-data"
# Room for a multipart body's boundaries and part headers around the largest file allowed.
_ENVELOPE = 64 * 1024
NO_ASSETS = "assets are not configured on this server"
# The id names the content, so a thumbnail never changes; private: only a signed-in admin may see it.
PREVIEW_MEDIA_CACHE = "private, max-age=86400, immutable"


class AssetHandlers:
    """Mixed into AdminApi: handlers named in the OPERATIONS table."""

    service: AdminService
    assets: AssetLibrary | None
    variants: VariantMaker | None

    async def list_assets(self, request: Request, grant: Grant) -> Response:
        library = self._library()
        tenant = request.path_params["tenant"]
        items = await library.listing(tenant)
        body = {
            "items": items,
            "used_bytes": sum(item["size"] for item in items),
            "quota_bytes": library.limits.quota_bytes,
        }
        return JsonResponse(body, headers={"cache-control": "no-store"})

    async def upload_asset(self, request: Request, grant: Grant) -> Response:
        library = self._library()
        tenant = request.path_params["tenant"]
        name, data = await _upload(request, library.limits.max_bytes)
        uploaded = await library.upload(tenant, name, data, grant.name)
        record = uploaded.record
        if uploaded.created:
            await self.service.announce(Event(ASSET_ADDED, tenant, 0, record.id))
        body = describe(record, [])
        location = {"location": f"/api/tenants/{tenant}/assets/{record.id}", "cache-control": "no-store"}
        return JsonResponse(body, 201 if uploaded.created else 200, location)

    async def get_asset(self, request: Request, grant: Grant) -> Response:
        found = await self._library().get(request.path_params["tenant"], request.path_params["asset_id"])
        return JsonResponse(found, headers={"cache-control": "no-store"})

    async def delete_asset(self, request: Request, grant: Grant) -> Response:
        tenant, asset = request.path_params["tenant"], request.path_params["asset_id"]
        await self._library().delete(tenant, asset)
        await self.service.announce(Event(ASSET_DELETED, tenant, 0, asset))
        return Response(status_code=204)

    async def preview_media(self, tenant: str, asset: str) -> Response:
        """An asset on the admin host, for the dashboard's thumbnails and the draft preview: the tenant's domains
        serve it at /_edge/media/{id}, and the admin host is none of them."""
        store = self._library().store
        if VARIANT_ID.match(asset):
            # A width variant the preview's srcset names, made now if its upload has not made it yet.
            made = self.variants is not None and await self.variants.ensure_variant(tenant, asset)
            content_type = WEBP.content_type if made else None
        else:
            record = (await store.library(tenant)).get(asset) if ASSET_ID.match(asset) else None
            content_type = record.content_type if record is not None else None
        stream = await store.open(tenant, asset) if content_type is not None else None
        if content_type is None or stream is None:
            raise NotFound(f"tenant {tenant}: no asset {asset!r}")
        headers = {"cache-control": PREVIEW_MEDIA_CACHE, "content-length": str(stream.size)}
        if content_type == SVG.content_type:
            headers[SVG_POLICY[0].decode()] = SVG_POLICY[1].decode()
        return StreamingResponse(_chunks(stream), media_type=content_type, headers=headers)

    def _library(self) -> AssetLibrary:
        if self.assets is None:
            raise ApiError(503, NO_ASSETS)
        return self.assets


async def _chunks(stream: AssetStream) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream.chunks:
            yield chunk
    finally:
        await stream.close()


async def _upload(request: Request, max_bytes: int) -> tuple[str, bytes]:
    """The file's name and bytes: the `file` part of a multipart body, or the raw body named by `filename`."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    multipart = media == MULTIPART
    limit = max_bytes + _ENVELOPE if multipart else max_bytes
    declared = bounded_integer(request.headers.get("content-length"), 0, 1 << 62)
    if declared is not None and declared > limit:
        raise too_large(declared, max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(len(body), max_bytes)
    if not multipart:
        name = request.query_params.get(FILENAME.name)
        if not name:
            raise ApiError(
                400,
                "a raw upload needs its name in the 'filename' query parameter (or send multipart/form-data)",
                issues=[{"path": "filename", "message": "expected the file's name, like 'logo.png'"}],
            )
        return name, bytes(body)
    name, data = _file_part(bytes(body), request.headers["content-type"])
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    return name, data


def _file_part(body: bytes, content_type: str) -> tuple[str, bytes]:
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\nMIME-Version: 1.0\r\n\r\n"
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise ApiError(400, "a multipart/form-data body that does not parse (its boundary?)")
    for part in message.iter_parts():
        if isinstance(part, EmailMessage) and part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return part.get_filename() or FILENAME.name, payload
    raise ApiError(
        422, "the multipart body has no 'file' part", issues=[{"path": "file", "message": "expected the file"}]
    )
