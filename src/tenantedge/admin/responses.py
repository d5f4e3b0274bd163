"""What every admin response is made of: JSON bodies, RFC 9457 problems, version ETags, bounded JSON bodies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tenantedge.errors import ApiError
from tenantedge.store.publisher import ANY_VERSION

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


class JsonResponse(Response):
    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


def problem(error: ApiError) -> Response:
    """The error as `application/problem+json` (RFC 9457), never cached."""
    body: dict[str, Any] = {"status": error.status, "title": _TITLES.get(error.status, "Error"), "detail": error.detail}
    if error.issues is not None:
        body["issues"] = error.issues
    headers = {"cache-control": "no-store", **error.headers}
    return Response(orjson.dumps(body), error.status, headers, media_type="application/problem+json")


async def read_json(request: Request, max_body: int, types: tuple[str, ...] = (JSON,)) -> Any:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in types:
        raise ApiError(415, f"expected Content-Type {' or '.join(types)}, found {media or 'none'}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise ApiError(413, f"the body is {declared} bytes; the limit is {max_body}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body:
            raise ApiError(413, f"the body is over the limit of {max_body} bytes")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise ApiError(400, f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e


def bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def etag(version: int | None) -> str:
    return f'"{version}"'


def if_match(request: Request) -> int | None:
    """The version an `If-Match` names (`*` matches whatever is current); 412 for one that is not a version."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return ANY_VERSION
    if value.startswith('"') and value.endswith('"') and value[1:-1].isdigit():
        return int(value[1:-1])
    raise ApiError(412, f'If-Match: expected a version ETag like "7" (from a GET), found {value!r}')


def query_integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"query parameter {name!r}: expected an integer from {low} to {high}, found {raw!r}")
    return int(raw)
