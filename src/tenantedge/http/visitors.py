"""Who is visiting an experiment page: the first-party visitor id cookie, bots, and consent.

Only pages with a running experiment read it; every other page never looks at a cookie.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from tenantedge.pagecache import Header

# Substrings of the User-Agent of common crawlers and link previewers, matched case-insensitively: they see the
# control and get no cookie (and, once counting exists, are not counted).
BOT_SUBSTRINGS = (
    "bot",  # Googlebot, bingbot, DuckDuckBot, YandexBot, Applebot, AhrefsBot, SemrushBot, Twitterbot, ...
    "crawler",
    "spider",  # Baiduspider, Sogou spider
    "slurp",  # Yahoo
    "facebookexternalhit",
    "embedly",
    "quora link preview",
    "whatsapp",
    "lighthouse",
    "headlesschrome",
    "curl/",
    "wget/",
    "python-requests",
)
_BOT = re.compile("|".join(re.escape(part) for part in BOT_SUBSTRINGS), re.IGNORECASE)
# A visitor id as tenantedge makes them: 32 hex digits. Anything else in the cookie is replaced.
_VISITOR_ID = re.compile(r"[0-9a-f]{32}\Z")
_YEAR = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Visitor:
    # The visitor id to assign by; None: the control, and no cookie (a bot, or no consent).
    id: str | None
    # The cookie to set, when the visitor came without one.
    set_cookie: Header | None = None


@dataclass(frozen=True, slots=True)
class VisitorPolicy:
    """How the edge knows a visitor: the cookie's name, and whether a consent cookie must be present first."""

    cookie: str = "te_vid"
    # When set, a visitor without this cookie (any value) sees the control and gets no visitor id cookie.
    consent_cookie: str | None = None

    def visitor(self, headers: Iterable[tuple[bytes, bytes]], https: bool) -> Visitor:
        cookies: dict[str, str] = {}
        agent = b""
        for name, value in headers:
            if name == b"cookie":
                cookies.update(_cookies(value.decode("latin-1")))
            elif name == b"user-agent":
                agent = value
        if _BOT.search(agent.decode("latin-1")) or (self.consent_cookie and self.consent_cookie not in cookies):
            return Visitor(None)
        known = cookies.get(self.cookie)
        if known is not None and _VISITOR_ID.match(known):
            return Visitor(known)
        fresh = secrets.token_hex(16)
        attributes = f"; Max-Age={_YEAR}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
        return Visitor(fresh, (b"set-cookie", f"{self.cookie}={fresh}{attributes}".encode()))


def _cookies(header: str) -> Iterable[tuple[str, str]]:
    for pair in header.split(";"):
        name, equals, value = pair.strip().partition("=")
        if equals:
            yield name, value.strip('"')
