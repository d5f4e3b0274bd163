"""The dashboard's side of the admin: sign-in that trades a token for cookies, CSRF tokens, and its static files.

Signing in stores the token in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` over https), which the
browser sends with API calls, previews and the WebSocket. A state-changing request authenticated by that cookie
must also carry `X-CSRF-Token`, derived from the token with HMAC: a page on another site can neither send the
cookie (SameSite) nor read or compute the header. Bearer-token clients are not affected.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from tenantedge.admin.auth import Grant, TokenRing
from tenantedge.admin.limiter import FailureLimiter, peer, retry_after
from tenantedge.admin.responses import JsonResponse, read_json
from tenantedge.errors import ApiError

COOKIE = "tenantedge_admin"
CSRF_COOKIE = "tenantedge_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UI = Path(__file__).with_name("ui")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
_SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    # Everything is served from here; the preview iframe is same-origin; nothing comes from a CDN.
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
        "connect-src 'self' ws: wss:; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "cache-control": "no-cache",
}


async def refusal(limiter: FailureLimiter, request: Request, token: str | None, unauthorized: ApiError) -> ApiError:
    """What a wrong token gets, once counted: `unauthorized`, or 429 with Retry-After while its address or the
    token itself is over its failure budget (a valid token never comes here, so it is never refused)."""
    wait = await limiter.failed(peer(request), token)
    if wait > 0:
        return ApiError(429, "too many failed attempts; try again later", headers={"retry-after": retry_after(wait)})
    return unauthorized


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), b"tenantedge-csrf", hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str) -> None:
    """403 for a cookie-authenticated request that changes state without the matching X-CSRF-Token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
        raise ApiError(403, f"missing or wrong {CSRF_HEADER} header (sign in again if this persists)")


class ConsoleHandlers:
    """Mixed into AdminApi: handlers named in the OPERATIONS table."""

    _tokens: TokenRing
    _limiter: FailureLimiter
    max_body: int

    async def sign_in(self, request: Request, grant: Grant) -> Response:
        body = await read_json(request, self.max_body)
        token = body.get("token") if isinstance(body, dict) else None
        presented = token if isinstance(token, str) else None
        found = self._tokens.check(presented)
        if found is None or presented is None:
            raise await refusal(self._limiter, request, presented, ApiError(401, "that token is not valid"))
        response = JsonResponse(_who(found, csrf_token(presented)), headers={"cache-control": "no-store"})
        secure = _secure(request)
        response.set_cookie(COOKIE, presented, httponly=True, samesite="strict", secure=secure, path="/")
        response.set_cookie(CSRF_COOKIE, csrf_token(presented), samesite="strict", secure=secure, path="/")
        return response

    async def whoami(self, request: Request, grant: Grant) -> Response:
        """Public, so a dashboard that is not signed in learns it without an error: `name` is then null."""
        token = request.cookies.get(COOKIE)
        found = self._tokens.check(token) if token else None
        body = _who(found, csrf_token(token)) if found and token else {"name": None, "tenants": None, "csrf": None}
        return JsonResponse(body, headers={"cache-control": "no-store"})

    async def sign_out(self, request: Request, grant: Grant) -> Response:
        response = Response(status_code=204, headers={"cache-control": "no-store"})
        for name in (COOKIE, CSRF_COOKIE):
            response.delete_cookie(name, path="/", samesite="strict", secure=_secure(request))
        return response

    async def console(self, request: Request, grant: Grant) -> Response:
        return _static("index.html")

    async def console_asset(self, request: Request, grant: Grant) -> Response:
        return _static(request.path_params["asset"])


def _who(grant: Grant, csrf: str | None) -> dict[str, object]:
    tenants = sorted(grant.tenants) if grant.tenants is not None else None
    return {"name": grant.name, "tenants": tenants, "csrf": csrf}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _static(name: str) -> Response:
    path = UI / name
    if "/" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
        raise ApiError(404, f"no file {name!r}")
    body = path.read_bytes()
    etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
    return Response(body, headers={**_SECURITY, "etag": etag}, media_type=_TYPES[path.suffix])
