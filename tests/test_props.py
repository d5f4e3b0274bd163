from __future__ import annotations

from typing import Any

import pytest

from tenantedge.errors import ValidationIssue
from tenantedge.props import parse_spec, validate_props, validate_value

SCHEMA = {
    "title": parse_spec("title", {"type": "string", "minLength": 2, "maxLength": 10, "default": "Hi"}, "t"),
    "count": parse_spec("count", {"type": "integer", "min": 1, "max": 5, "default": 2}, "t"),
    "ratio": parse_spec("ratio", {"type": "number"}, "t"),
    "on": parse_spec("on", {"type": "boolean"}, "t"),
    "tint": parse_spec("tint", {"type": "color"}, "t"),
    "link": parse_spec("link", {"type": "url"}, "t"),
    "pic": parse_spec("pic", {"type": "image"}, "t"),
    "tags": parse_spec("tags", {"type": "list", "maxItems": 2, "items": {"type": "string"}}, "t"),
}


def check(props: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    issues: list[ValidationIssue] = []
    out = validate_props(SCHEMA, props, ("p",), issues)
    return out, [str(issue) for issue in issues]


def test_defaults_fill_in() -> None:
    out, errors = check({})
    assert errors == []
    assert out == {
        "title": "Hi",
        "count": 2,
        "ratio": None,
        "on": False,
        "tint": None,
        "link": None,
        "pic": None,
        "tags": [],
    }


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"title": "x" * 11}, "p.title: expected at most 10 characters, found 11", id="too-long"),
        pytest.param({"title": "x"}, "p.title: expected at least 2 characters, found 1", id="too-short"),
        pytest.param({"count": 2.5}, "p.count: expected an integer, found 2.5", id="float-for-integer"),
        pytest.param({"count": True}, "p.count: expected integer, found a boolean", id="bool-for-integer"),
        pytest.param({"count": 0}, "p.count: expected at least 1, found 0", id="below-min"),
        pytest.param({"ratio": "1"}, "p.ratio: expected number, found a string '1'", id="string-for-number"),
        pytest.param({"on": 1}, "p.on: expected true or false, found a number 1", id="int-for-bool"),
        pytest.param({"tint": "#12345"}, "p.tint: expected a hex colour", id="bad-hex"),
        pytest.param({"link": "javascript:alert(1)"}, "p.link: expected a link", id="javascript"),
        pytest.param({"link": "JaVaScRiPt:alert(1)"}, "p.link: expected a link", id="javascript-case"),
        pytest.param({"link": "data:text/html,<script>"}, "p.link: expected a link", id="data-url"),
        pytest.param({"link": "//evil.example"}, "p.link: expected a link", id="protocol-relative"),
        pytest.param({"link": '/x" onmouseover="alert(1)'}, "p.link: expected a link", id="attribute-breakout"),
        pytest.param(
            {"pic": "mailto:x@y.z"}, "p.pic: expected a link like '/path', 'https://…' or 'asset:", id="image-mailto"
        ),
        pytest.param({"pic": "asset:" + "ab" * 32}, "p.pic: expected a link like", id="asset-without-kind"),
        pytest.param({"pic": "asset:../../x.png"}, "p.pic: expected a link like", id="asset-path"),
        pytest.param({"tags": ["a", "b", "c"]}, "p.tags: expected at most 2 items, found 3", id="too-many-items"),
        pytest.param({"tags": ["a", 1]}, "p.tags[1]: expected string, found a number 1", id="item-type"),
        pytest.param({"extra": 1}, "p.extra: unknown prop 'extra'", id="unknown"),
    ],
)
def test_errors(props: dict[str, Any], expected: str) -> None:
    _, errors = check(props)
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(
    "url", ["/", "/about#team", "#contact", "https://example.com/a?b=c", "http://x.y", "mailto:a@b.c", "tel:+15550100"]
)
def test_good_links(url: str) -> None:
    issues: list[ValidationIssue] = []
    assert validate_value(SCHEMA["link"], url, ("p",), issues) == url
    assert issues == []


def test_an_asset_reference_becomes_its_served_path() -> None:
    asset = "ab" * 32 + ".png"
    issues: list[ValidationIssue] = []
    assert validate_value(SCHEMA["pic"], f"asset:{asset}", ("p",), issues) == f"/_edge/media/{asset}"
    assert issues == []
