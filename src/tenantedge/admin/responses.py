"""What every admin response is made of: JSON bodies, RFC 9457 problems, version ETags, bounded JSON bodies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tenantedge.admin.operations import MAX_VERSION, Query
from tenantedge.errors import ApiError
from tenantedge.integers import bounded_integer, describe_range
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
    405: "Method Not Allowed",
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
    declared = bounded_integer(request.headers.get("content-length"), 0, 1 << 62)
    if declared is not None and declared > max_body:
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


def bad_input(status: int, name: str, expected: str, found: str | None, *, kind: str = "") -> ApiError:
    """An input the API does not take, named as the client sent it: `detail` and the one issue's `path` say which."""
    label = f"{kind} {name!r}" if kind else name
    shown = "nothing" if found is None else repr(found[:100]) + ("…" if len(found) > 100 else "")
    issues = [{"path": name, "message": f"expected {expected}"}]
    return ApiError(status, f"{label}: expected {expected}, found {shown}", issues=issues)


def if_match(request: Request) -> int | None:
    """The version an `If-Match` names (`*` matches whatever is current); 412 for one that is not a version."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return ANY_VERSION
    quoted = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else None
    version = bounded_integer(quoted, 0, MAX_VERSION)  # "0" is well formed, and never current: a 409
    if version is None:
        raise bad_input(412, "If-Match", f'a version ETag like "7" (from a GET; at most {MAX_VERSION}) or *', value)
    return version


def path_integer(request: Request, name: str, low: int, high: int) -> int:
    raw = str(request.path_params[name])
    value = bounded_integer(raw, low, high)
    if value is None:
        raise bad_input(400, name, describe_range(low, high), raw, kind="path parameter")
    return value


def query_choice(request: Request, query: Query) -> str:
    """A text query parameter that takes one of its documented choices; the first when absent."""
    raw = request.query_params.get(query.name)
    if raw is None:
        return query.choices[0]
    if raw not in query.choices:
        raise bad_input(400, query.name, "one of " + ", ".join(query.choices), raw, kind="query parameter")
    return raw


def query_integer(request: Request, query: Query) -> int:
    """An integer query parameter within its documented bounds; its default when absent (400 when it has none)."""
    assert query.bounds is not None, f"{query.name} is not an integer parameter"
    raw = request.query_params.get(query.name)
    if raw is None and query.default is not None:
        return query.default
    value = bounded_integer(raw, *query.bounds)
    if value is None:
        raise bad_input(400, query.name, describe_range(*query.bounds), raw, kind="query parameter")
    return value
