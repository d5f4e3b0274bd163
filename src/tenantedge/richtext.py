"""Safe HTML from authors' text: Markdown for `richtext` props (raw HTML shown as text, unsafe links dropped),
and blog post bodies in Markdown or HTML, cleaned against an allowlist."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# html=False escapes any HTML in the source; markdown-it's validateLink refuses javascript:, vbscript:,
# file: and non-image data: URLs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


@lru_cache(maxsize=4096)
def markdown_to_html(text: str) -> Markup:
    """Render Markdown once per distinct text; tenants' texts change rarely and renders are frequent."""
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - markdown-it escapes all HTML in the source


# What a post written in HTML may keep: structure and text formatting, links and images by http(s) only.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "small", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "th": {"scope"}}


@lru_cache(maxsize=1024)
def post_html(body: str, body_format: str) -> Markup:
    """A post's body as safe HTML: Markdown as above; HTML cleaned by an allowlist (no script, no event
    handlers, no javascript: URLs), and Markdown's output cleaned the same way, as a second line of defence."""
    html = _MARKDOWN.render(body) if body_format == "markdown" else body
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - cleaned by nh3 (ammonia) against the allowlist above
