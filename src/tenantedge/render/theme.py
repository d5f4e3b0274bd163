"""Theme engine: presets plus a tenant's colours and fonts become CSS variables; custom CSS is appended safely."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tenantedge.css import escape_css
from tenantedge.tenants import Theme

# Each preset passes WCAG AA (4.5:1) for text and muted text on its background and surface.
PRESETS: Mapping[str, Mapping[str, str]] = {
    "light": {
        "primary": "#4338ca",
        "accent": "#0f766e",
        "background": "#ffffff",
        "surface": "#f5f6f8",
        "text": "#16181d",
        "muted": "#4b5260",
        "border": "#dde1e7",
        "blogBg": "#f5f6f8",
    },
    "dark": {
        "primary": "#a78bfa",
        "accent": "#2dd4bf",
        "background": "#0f1115",
        "surface": "#181b22",
        "text": "#e8eaed",
        "muted": "#a3a9b5",
        "border": "#2b303b",
        "blogBg": "#14171d",
    },
}
SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_MIN_CONTRAST = 4.5


@dataclass(frozen=True, slots=True)
class Stylesheet:
    """A tenant's theme stylesheet: its bytes and the digest that versions its URL."""

    body: bytes
    digest: str


def theme_stylesheet(theme: Theme) -> Stylesheet:
    """The tenant's stylesheet: CSS variables for its colours and fonts, then its custom CSS."""
    colors = {**PRESETS[theme.preset], **theme.colors}
    colors["onPrimary"] = readable_on(colors["primary"])
    # Links use the primary colour only where it is readable on the background; otherwise the text colour.
    primary_ok = contrast_ratio(colors["primary"], colors["background"]) >= _MIN_CONTRAST
    colors["link"] = colors["primary"] if primary_ok else colors["text"]
    lines = [f"  --te-{_CAMEL.sub('-', name).lower()}: {value};" for name, value in colors.items()]
    if theme.fonts:
        families = ", ".join(f'"{font}"' for font in theme.fonts)
        lines.append(f"  --te-font: {families}, {SYSTEM_FONTS};")
    # Family names are letters, digits, spaces and '-', and URLs a digest: nothing here needs escaping.
    faces = "".join(
        f'@font-face {{ font-family: "{font.family}"; src: url("{font.url}") format("{font.format}"); '
        f"font-weight: {font.weight}; font-style: {font.style}; font-display: swap; }}\n"
        for font in theme.font_files
    )
    css = faces + ":root {\n" + "\n".join(lines) + "\n}\n"
    if theme.custom_css:
        # Served as its own text/css file, never inside the HTML: a hostile '</style><script>' has no
        # element to close there, and the escape keeps it harmless even if someone inlines it later.
        css += "/* tenant custom CSS */\n" + escape_css(theme.custom_css) + "\n"
    body = css.encode()
    return Stylesheet(body, hashlib.sha256(body).hexdigest()[:16])


def _luminance(color: str) -> float:
    digits = color.lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(ch * 2 for ch in digits[:3])
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two hex colours, from 1 to 21."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_on(background: str) -> str:
    """Near-white or near-black, whichever reads better on the given colour."""
    light, dark = "#ffffff", "#111111"
    return light if contrast_ratio(light, background) >= contrast_ratio(dark, background) else dark
