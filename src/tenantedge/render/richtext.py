"""Markdown to safe HTML for `richtext` props: raw HTML is shown as text and unsafe links are dropped."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup

# html=False escapes any HTML in the source; markdown-it's validateLink refuses javascript:, vbscript:,
# file: and non-image data: URLs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


@lru_cache(maxsize=4096)
def markdown_to_html(text: str) -> Markup:
    """Render Markdown once per distinct text; tenants' texts change rarely and renders are frequent."""
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - markdown-it escapes all HTML in the source
