"""A submitted form: read from the urlencoded body, each field within its limit, and where it came from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

NAME_CHARS = 200
EMAIL_CHARS = 254
USER_AGENT_CHARS = 300
# What a form sends besides the message; anything longer is not from our form.
_SHORT_CHARS = 200
_FIELDS = 10
_EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z")
_PAGE = re.compile(r"/(?:[A-Za-z0-9._~-]+/?)*\Z")
_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}\Z")
# Line breaks and other controls (but a message's own line breaks and tabs).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MESSAGE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Invalid(Exception):
    """A field that is missing or not what the form asks for; `field` names it for the visitor."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Submission:
    name: str
    email: str
    message: str
    token: str
    # The page and section the form was on, where the visitor is sent back to.
    page: str
    section: str
    # The honeypot: people never see it, so only a bot fills it in.
    trap: str

    @property
    def back(self) -> str:
        return f"{self.page}#{self.section}"


def read(body: bytes, content_type: str, max_message_chars: int) -> Submission:
    """The submission in a form body; Invalid naming the first field at fault."""
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise Invalid("form", "expected a form (application/x-www-form-urlencoded)")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError) as e:
        raise Invalid("form", "not a form this page sent") from e
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)  # a field given twice: the first counts
    section = _short(fields, "section")
    return Submission(
        name=_text(fields, "name", NAME_CHARS),
        email=_email(fields),
        message=_message(fields, max_message_chars),
        token=_short(fields, "token"),
        page=_page(_short(fields, "page")),
        section=section if _ANCHOR.match(section) else "contact",
        trap=_short(fields, "website"),
    )


def back_of(body: bytes) -> str:
    """Where a form that could not be read was on, as far as it says (for the link back)."""
    try:
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=_FIELDS))
    except ValueError:
        return "/"
    page, section = _page(fields.get("page", "")), fields.get("section", "contact")
    return f"{page}#{section}" if _ANCHOR.match(section) else page


def same_site(headers: Mapping[str, str], hosts: set[str]) -> bool:
    """Whether the browser says the form was sent from one of these hosts (Origin, or Referer without it): what
    keeps other sites from posting in a visitor's name, with no cookie to steal."""
    source = headers.get("origin", "")
    if not source or source == "null":
        source = headers.get("referer", "")
    if not source:
        return False
    try:
        parts = urlsplit(source)
        hostname = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and hostname is not None and hostname.rstrip(".") in hosts


def hostname(value: str) -> str:
    """The host of a `Host` header value, lowercased, without port or trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0].rstrip(".") if ":" in value else value.rstrip(".")


def _page(value: str) -> str:
    """The page a form says it was on, when that is a plain path of this site; else the home page."""
    if len(value) > _SHORT_CHARS or not _PAGE.match(value) or any(part in (".", "..") for part in value.split("/")):
        return "/"
    return value


def _short(fields: Mapping[str, str], key: str) -> str:
    value = fields.get(key, "")
    if len(value) > _SHORT_CHARS:
        raise Invalid(key, f"at most {_SHORT_CHARS} characters")
    return value


def _text(fields: Mapping[str, str], key: str, limit: int) -> str:
    value = fields.get(key, "").strip()
    if not value:
        raise Invalid(key, "required")
    if len(value) > limit:
        raise Invalid(key, f"at most {limit} characters")
    if _CONTROL.search(value):
        raise Invalid(key, "one line, without control characters")
    return value


def _email(fields: Mapping[str, str]) -> str:
    value = _text(fields, "email", EMAIL_CHARS)
    if not _EMAIL.match(value):
        raise Invalid("email", "an email address like name@example.com")
    return value


def _message(fields: Mapping[str, str], limit: int) -> str:
    value = fields.get("message", "").strip()
    if not value:
        raise Invalid("message", "required")
    if len(value) > limit:
        raise Invalid("message", f"at most {limit} characters")
    if _MESSAGE_CONTROL.search(value):
        raise Invalid("message", "text without control characters")
    return value.replace("\r\n", "\n")
