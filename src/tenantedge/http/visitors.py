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
    "curl/",
    "wget/",
    "python-requests",
)
# Matched against the lowered User-Agent: a case-insensitive alternation costs ten times as much on a long one.
_BOT = re.compile("|".join(re.escape(part) for part in BOT_SUBSTRINGS).encode())
# User-Agent strings repeat: each one's answer is kept, up to this many per worker, then they start over.
_AGENTS = 4096
_YEAR = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Visitor:
    # The visitor id to assign by; None: the control, and no cookie (a bot, or no consent).
    id: str | None
    # The cookie to set, when the visitor came without one.
    set_cookie: Header | None = None


class VisitorPolicy:
    """How the edge knows a visitor: the cookie's name, and whether a consent cookie must be present first."""

    def __init__(self, cookie: str = "te_vid", consent_cookie: str | None = None) -> None:
        self.cookie = cookie
        # When set, a visitor without this cookie (any value) sees the control and gets no visitor id cookie.
        self.consent_cookie = consent_cookie
        # A visitor id as tenantedge makes them, 32 hex digits; any other value of the cookie is replaced.
        self._visitor = re.compile(rb"(?:^|;)\s*" + re.escape(cookie.encode()) + rb"=([0-9a-f]{32})\s*(?:;|$)")
        consent = consent_cookie.encode() if consent_cookie else None
        self._consent = re.compile(rb"(?:^|;)\s*" + re.escape(consent) + rb"=") if consent else None
        self._bots: dict[bytes, bool] = {}

    def visitor(self, headers: Iterable[tuple[bytes, bytes]], https: bool) -> Visitor:
        cookies = agent = b""
        for name, value in headers:
            if name == b"cookie":
                cookies = value if not cookies else cookies + b"; " + value  # HTTP/2 may split it
            elif name == b"user-agent":
                agent = value
        if self.is_bot(agent) or (self._consent is not None and not self._consent.search(cookies)):
            return Visitor(None)
        known = self._visitor.search(cookies)
        if known is not None:
            return Visitor(known.group(1).decode())
        fresh = secrets.token_hex(16)
        attributes = f"; Max-Age={_YEAR}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
        return Visitor(fresh, (b"set-cookie", f"{self.cookie}={fresh}{attributes}".encode()))

    def is_bot(self, agent: bytes) -> bool:
        bot = self._bots.get(agent)
        if bot is None:
            if len(self._bots) >= _AGENTS:
                self._bots.clear()  # made-up agents must not grow memory
            bot = self._bots[agent] = _BOT.search(agent.lower()) is not None
        return bot
