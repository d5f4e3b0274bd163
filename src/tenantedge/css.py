"""Tenant custom CSS: reject what could load or run foreign code, and escape what could end a style element."""

from __future__ import annotations

import re

_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\r\n\f]?|(.))", re.DOTALL)
_SPACE = re.compile(r"\s+")

# Checked after comments are dropped, CSS escapes decoded and whitespace removed, so `@\69mport` and
# `expression (` are caught as well as their plain spellings.
_FORBIDDEN = (
    ("@import", "'@import' is not allowed: custom CSS may not load other stylesheets"),
    ("expression(", "'expression()' is not allowed: it runs script in old browsers"),
    ("javascript:", "'javascript:' URLs are not allowed"),
    ("vbscript:", "'vbscript:' URLs are not allowed"),
    ("-moz-binding", "'-moz-binding' is not allowed: it loads script in old browsers"),
    ("behavior:", "'behavior' is not allowed: it loads script in old browsers"),
    ("data:text/html", "'data:text/html' URLs are not allowed"),
)


def _decode_escape(match: re.Match[str]) -> str:
    hex_digits, literal = match.group(1), match.group(2)
    if hex_digits is None:
        return literal
    code = int(hex_digits, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def css_problems(css: str) -> list[str]:
    """Why this custom CSS cannot be accepted; empty when it can."""
    plain = _ESCAPE.sub(_decode_escape, _COMMENT.sub("", css))
    squeezed = _SPACE.sub("", plain).lower()
    problems = [reason for token, reason in _FORBIDDEN if token in squeezed]
    if "\x00" in css:
        problems.append("NUL characters are not allowed")
    return problems


def escape_css(css: str) -> str:
    """Make CSS safe to place anywhere, even inside a <style> element: no '<' can survive to end it.

    `\\3c ` is the CSS escape of '<': inside a string it still means '<', so legitimate content keeps working.
    """
    return css.replace("<", "\\3c ")
