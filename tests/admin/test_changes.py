"""Changes between tenant documents in plain language: grouped by page and section, defaults not counted."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tenantedge.admin.changes import MAX_DEPTH, describe, normalised

HOME: list[dict[str, Any]] = [
    {"type": "Hero", "props": {"title": "Our legal"}},
    {"type": "Features", "props": {"items": [{"title": "Fast"}, {"title": "Fair"}]}},
    {"type": "CTA"},
]
SITE: dict[str, Any] = {"name": "Acme", "domains": ["acme.localhost"], "pages": {"/": HOME}}


def edited(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SITE), **changes}


def home(*sections: dict[str, Any]) -> dict[str, Any]:
    return edited(pages={"/": list(sections)})


HERO, FEATURES, CTA = HOME


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(edited(features={}, components=[]), id="empty-features-and-components"),
        pytest.param(edited(features={"blog": False}), id="feature-false"),
        pytest.param(edited(theme="light"), id="theme-preset-name"),
        pytest.param(
            edited(theme={"preset": "light", "colors": {}, "fonts": [], "custom_css": ""}), id="theme-spelled"
        ),
        pytest.param(edited(aliases=[], description="", published=True), id="empty-site-fields"),
        pytest.param(edited(version=9), id="version"),
        pytest.param(edited(pages={"/": {"title": None, "sections": HOME}}), id="page-as-object"),
        pytest.param(
            home(HERO, {**FEATURES, "variant": "default"}, {"type": "CTA", "props": {}}), id="section-defaults"
        ),
        pytest.param(
            edited(layout={"header": [{"type": "Navigation"}], "footer": [{"type": "Footer"}]}), id="default-layout"
        ),
    ],
)
def test_defaults_spelled_out_are_no_change(new: dict[str, Any]) -> None:
    assert describe(SITE, new) == []
    assert normalised(SITE) == normalised(new)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(
            edited(name="Acme Inc"),
            [{"group": "Site", "changes": ["Name changed from “Acme” to “Acme Inc”"]}],
            id="name",
        ),
        pytest.param(
            edited(domains=["acme.localhost", "www.acme.localhost"], description="Law"),
            [{"group": "Site", "changes": ["Description set to “Law”", "Domains: added “www.acme.localhost”"]}],
            id="site-fields",
        ),
        pytest.param(
            edited(published=False, lang="de"),
            [{"group": "Site", "changes": ["Language set to “de”", "Unpublished: not served until published"]}],
            id="published-and-language",
        ),
        pytest.param(
            {**edited(description=""), "name": ""},
            [{"group": "Site", "changes": ["Name removed (was “Acme”)"]}],
            id="emptied-text",
        ),
        pytest.param(
            edited(theme={"preset": "dark", "colors": {"primary": "#7c3aed"}, "fonts": ["Inter"]}),
            [
                {
                    "group": "Theme",
                    "changes": [
                        "Preset changed from “light” to “dark”",
                        "Fonts: added “Inter”",
                        "Primary colour set to “#7c3aed”",
                    ],
                }
            ],
            id="theme",
        ),
        pytest.param(
            edited(features={"blog": True}, components=["CodeEditor"]),
            [{"group": "Features", "changes": ["Blog switched on", "Components: added “CodeEditor”"]}],
            id="features",
        ),
        pytest.param(
            home(HERO, FEATURES, {"type": "CTA", "variant": "banner"}),
            [{"group": "Page /", "changes": ["CTA: variant changed from “default” to “banner”"]}],
            id="variant",
        ),
        pytest.param(
            home({"type": "Hero", "props": {"title": "Our legal services"}}, FEATURES, CTA),
            [{"group": "Page /", "changes": ["Hero: title changed from “Our legal” to “Our legal services”"]}],
            id="prop",
        ),
        pytest.param(
            home(HERO, {"type": "Features", "props": {"items": [{"title": "Fast"}, {"title": "Fairer"}]}}, CTA),
            [{"group": "Page /", "changes": ["Features: item 2's title changed from “Fair” to “Fairer”"]}],
            id="list-prop-item",
        ),
        pytest.param(
            home(HERO, {"type": "Features", "props": {"items": [{"title": "Fair"}]}}, CTA),
            [{"group": "Page /", "changes": ["Features: item 1 removed"]}],
            id="list-prop-item-removed",
        ),
        pytest.param(
            home(FEATURES, HERO, CTA),
            [{"group": "Page /", "changes": ["Hero moved from position 1 to 2"]}],
            id="moved",
        ),
        pytest.param(
            home(CTA, HERO, FEATURES),
            [{"group": "Page /", "changes": ["CTA moved from position 3 to 1"]}],
            id="moved-to-the-top",
        ),
        pytest.param(
            home({"type": "Team"}, HERO, FEATURES),
            [{"group": "Page /", "changes": ["CTA removed from position 3", "Team added at position 1"]}],
            id="added-and-removed",
        ),
        pytest.param(
            home(HERO, {"type": "Hero", "props": {"title": "Again"}}, FEATURES, CTA),
            [{"group": "Page /", "changes": ["Hero added at position 2"]}],
            id="second-of-a-type",
        ),
        pytest.param(
            edited(pages={"/": HOME, "/services": {"title": "Services", "sections": [{"type": "Services"}, CTA]}}),
            [{"group": "Page /services", "changes": ["Page added with 2 sections: Services, CTA"]}],
            id="page-added",
        ),
        pytest.param(
            edited(pages={"/": {"title": "Welcome", "sections": HOME}}),
            [{"group": "Page /", "changes": ["Page's title set to “Welcome”"]}],
            id="page-title",
        ),
        pytest.param(
            edited(layout={"footer": [{"type": "Footer", "props": {"text": "Hi"}}]}),
            [{"group": "Footer", "changes": ["Footer: text set to “Hi”"]}],
            id="footer",
        ),
        pytest.param(
            home({"type": "Hero", "props": {"title": "x" * 200}}, FEATURES, CTA),
            [{"group": "Page /", "changes": [f"Hero: title changed from “Our legal” to “{'x' * 59}…”"]}],
            id="long-value-shortened",
        ),
    ],
)
def test_changes_read_as_a_person_says_them(new: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    assert describe(SITE, new) == expected


def test_sections_with_ids_are_matched_by_id() -> None:
    old = [{"id": "s0", "type": "Hero", "props": {"title": "A"}}, {"id": "s1", "type": "Hero", "props": {"title": "B"}}]
    new = [
        {"id": "s1", "type": "Hero", "props": {"title": "B2"}},
        {"id": "s0", "type": "Hero", "props": {"title": "A"}},
    ]
    assert describe(edited(pages={"/": old}), edited(pages={"/": new})) == [
        {
            "group": "Page /",
            "changes": ["Hero moved from position 2 to 1", "Hero at position 1: title changed from “B” to “B2”"],
        }
    ]


def test_a_page_removed_says_what_it_had() -> None:
    before = edited(pages={"/": HOME, "/old": [HERO]})
    assert describe(before, SITE) == [{"group": "Page /old", "changes": ["Page removed (it had 1 section)"]}]


def test_groups_come_site_first_then_pages_in_order() -> None:
    new = edited(name="B", theme="dark", pages={"/b": [HERO], "/": [HERO], "/a": [CTA]})
    groups = [group["group"] for group in describe(SITE, new)]
    assert groups == ["Site", "Theme", "Page /", "Page /a", "Page /b"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param({}, {"pages": 5}, id="pages-not-an-object"),
        pytest.param({"pages": {"/": 5}}, {"pages": {"/": "x"}}, id="page-not-a-list"),
        pytest.param({"pages": {"/": [1, None]}}, {"pages": {"/": [{"type": 3}, []]}}, id="sections-not-objects"),
        pytest.param({"theme": 5}, {"theme": ["dark"]}, id="theme-not-an-object"),
        pytest.param({"features": []}, {"features": {"blog": "yes"}}, id="features-odd"),
        pytest.param({"layout": 1}, {"layout": {"header": 2}}, id="layout-odd"),
        pytest.param({"x": [1] * 600}, {"x": [2] * 601}, id="long-lists"),
        pytest.param({"x": {"y": 1}}, {"x": [{"y": 1}]}, id="object-to-list"),
        pytest.param({}, {"x": _nested(MAX_DEPTH + 5)}, id="too-deep"),
    ],
)
def test_any_json_is_described_without_failing(old: Any, new: Any) -> None:
    described = describe(old, new)
    assert described and all(group["changes"] and all(group["changes"]) for group in described)
