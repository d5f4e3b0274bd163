from __future__ import annotations

import pytest

from tenantedge.render.theme import PRESETS, contrast_ratio, readable_on, theme_stylesheet
from tenantedge.tenants import COLOR_NAMES, FontFile, Theme
from tenantedge.tenants import PRESETS as PRESET_NAMES


def test_presets_match_the_document_schema() -> None:
    assert set(PRESETS) == set(PRESET_NAMES)
    for colors in PRESETS.values():
        assert set(colors) == set(COLOR_NAMES)


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("foreground", ["text", "muted", "primary"])
@pytest.mark.parametrize("background", ["background", "surface", "blogBg"])
def test_presets_have_good_contrast(preset: str, foreground: str, background: str) -> None:
    colors = PRESETS[preset]
    assert contrast_ratio(colors[foreground], colors[background]) >= 4.5


@pytest.mark.parametrize("primary", ["#7c3aed", "#f97316", "#14532d", "#ffff00", "#000"])
def test_text_on_primary_is_readable(primary: str) -> None:
    assert contrast_ratio(readable_on(primary), primary) >= 4.5


def test_stylesheet_has_variables_fonts_and_custom_css() -> None:
    sheet = theme_stylesheet(Theme("dark", {"primary": "#7c3aed", "blogBg": "#14141c"}, ("Inter",), ".x{y:z}"))
    css = sheet.body.decode()
    assert "--te-primary: #7c3aed;" in css
    assert "--te-blog-bg: #14141c;" in css
    assert "--te-background: #0f1115;" in css, "preset fills colours the tenant did not set"
    assert '--te-font: "Inter", system-ui' in css
    assert css.rstrip().endswith(".x{y:z}")
    assert len(sheet.digest) == 16


def test_unreadable_primary_does_not_colour_links() -> None:
    css = theme_stylesheet(Theme("light", {"primary": "#ffff00"}, (), "")).body.decode()
    assert "--te-link: #16181d;" in css


def test_digest_changes_with_content() -> None:
    first = theme_stylesheet(Theme("light", {}, (), ""))
    assert first == theme_stylesheet(Theme("light", {}, (), ""))
    assert first.digest != theme_stylesheet(Theme("dark", {}, (), "")).digest


@pytest.mark.parametrize(
    "hostile",
    ["</style><script>alert(1)</script>", "</STYLE><img src=x onerror=alert(1)>", 'a::after{content:"</style>"}'],
)
def test_custom_css_cannot_close_a_style_element(hostile: str) -> None:
    css = theme_stylesheet(Theme("light", {}, (), hostile)).body.decode()
    assert "<" not in css


def test_uploaded_fonts_are_loaded_with_font_face() -> None:
    asset = "ab" * 32 + ".woff2"
    theme = Theme("light", {}, ("Brand Sans",), "", font_files=(FontFile("Brand Sans", asset, 700, "italic"),))
    css = theme_stylesheet(theme).body.decode()
    assert (
        f'@font-face {{ font-family: "Brand Sans"; src: url("/_edge/media/{asset}") format("woff2"); '
        "font-weight: 700; font-style: italic; font-display: swap; }"
    ) in css
    assert css.index("@font-face") < css.index(":root")
