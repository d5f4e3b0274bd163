"""Feature icons: inline SVG from partials/icons.html, named from the schema's choices, never an emoji."""

from __future__ import annotations

import re

import pytest

from tenantedge.errors import DocumentError
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tests.render.test_pages import tenant_with

SVG = re.compile(r'<svg class="te-icon"[^>]*aria-hidden="true"[^>]*>(.*?)</svg>', re.DOTALL)


def icon_choices(registry: SectionRegistry) -> tuple[str, ...]:
    section = registry.get("Features")
    assert section is not None
    items = section.props["items"].items
    assert items is not None
    return items.fields["icon"].choices


def features(items: list[dict[str, str]]) -> list[dict[str, object]]:
    return [{"type": "Features", "props": {"items": items}}]


def test_every_choice_draws_its_own_svg(renderer: PageRenderer, registry: SectionRegistry) -> None:
    names = icon_choices(registry)
    assert {"bolt", "shield", "chart", "globe", "clock", "heart", "star", "check", "code", "chat", "lock"} <= set(names)
    items = [{"icon": name, "title": name} for name in names]
    sections = [*features(items[:10]), *features(items[10:])]  # at most 12 items a section
    html = renderer.render_page(tenant_with(registry, sections), "/").html  # type: ignore[union-attr]
    drawings = SVG.findall(html)
    assert len(drawings) == len(names)
    assert all("<path" in drawing or "<circle" in drawing for drawing in drawings)
    assert len(set(drawings)) == len(names), "two icon names draw the same picture"


def test_the_default_features_show_an_svg_per_item(renderer: PageRenderer, registry: SectionRegistry) -> None:
    tenant = tenant_with(registry, [{"type": "Features", "props": {}}])
    html = renderer.render_page(tenant, "/").html  # type: ignore[union-attr]
    cards = html.count('<li class="te-card">')
    assert cards == 3 and len(SVG.findall(html)) == cards
    assert not re.search("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]", html)


@pytest.mark.parametrize(
    "icon", ["⚡", "rocket", "<svg onload=alert(1)>", "Bolt"], ids=["emoji", "unknown", "markup", "case"]
)
def test_an_unknown_icon_is_refused_with_its_path(registry: SectionRegistry, icon: str) -> None:
    with pytest.raises(DocumentError) as caught:
        tenant_with(registry, features([{"icon": "bolt", "title": "a"}, {"icon": icon, "title": "b"}]))
    [issue] = caught.value.issues
    assert str(issue).startswith("tenants.acme.pages[\"/\"][0].props.items[1].icon: expected one of 'bolt'")
