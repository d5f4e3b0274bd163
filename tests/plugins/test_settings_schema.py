"""Plugin settings schemas: the JSON Schema subset read into props, everything outside it refused with its pointer."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest

from tenantedge.errors import RegistryError, ValidationIssue
from tenantedge.plugins.discovery import discover
from tenantedge.plugins.settings_schema import DRAFT, FORMAT_PATTERNS, pointer, settings_props
from tenantedge.props import validate_props

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = {
    "analytics-snippet": Path(str(files("analytics_snippet"))) / "settings.schema.json",
    "contact-form": Path(str(files("contact_form"))) / "settings.schema.json",
    "echo": FIXTURES / "tefx_echo" / "settings.schema.json",
    "bad-settings": FIXTURES / "tefx_bad_settings" / "settings.schema.json",
}


def schema(**properties: Any) -> dict[str, Any]:
    return {"$schema": DRAFT, "type": "object", "properties": properties, "additionalProperties": False}


def converted(raw: dict[str, Any]) -> dict[str, Any]:
    return {name: spec.to_json() for name, spec in settings_props(raw, "demo: settings.schema.json").items()}


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": "string"}, {"type": "string", "label": "x"}),
        ({"type": "integer"}, {"type": "integer", "label": "x"}),
        ({"type": "number"}, {"type": "number", "label": "x"}),
        ({"type": "boolean"}, {"type": "boolean", "label": "x"}),
        ({"type": "string", "title": "Ex", "description": "Why"}, {"type": "string", "label": "Ex", "help": "Why"}),
        ({"type": "string", "enum": ["a", "b"]}, {"type": "enum", "label": "x", "choices": ["a", "b"]}),
        ({"type": "string", "pattern": "^[a-z]+$"}, {"type": "string", "label": "x", "pattern": "[a-z]+"}),
        (
            {"type": "string", "minLength": 2, "maxLength": 9},
            {"type": "string", "label": "x", "minLength": 2, "maxLength": 9},
        ),
        ({"type": "integer", "minimum": 1, "maximum": 9}, {"type": "integer", "label": "x", "min": 1, "max": 9}),
        ({"type": "number", "minimum": 0.5}, {"type": "number", "label": "x", "min": 0.5}),
        (
            {"type": "string", "format": "email"},
            {"type": "string", "label": "x", "pattern": FORMAT_PATTERNS["email"]},
        ),
        (
            {"type": "string", "format": "hostname"},
            {"type": "string", "label": "x", "pattern": FORMAT_PATTERNS["hostname"]},
        ),
        ({"type": "string", "format": "uri"}, {"type": "url", "label": "x"}),
        ({"type": "integer", "default": 5}, {"type": "integer", "label": "x", "default": 5}),
        ({"type": "boolean", "default": True}, {"type": "boolean", "label": "x", "default": True}),
    ],
    ids=[
        "string",
        "integer",
        "number",
        "boolean",
        "title-description",
        "enum",
        "pattern",
        "lengths",
        "integer-range",
        "number-minimum",
        "email",
        "hostname",
        "uri",
        "default",
        "boolean-default",
    ],
)
def test_each_supported_keyword_becomes_its_prop(prop: dict[str, Any], expected: dict[str, Any]) -> None:
    assert converted(schema(x=prop)) == {"x": expected}


def test_required_properties_are_required_props() -> None:
    raw = {**schema(a={"type": "string"}, b={"type": "string"}), "required": ["b"], "title": "T", "description": "D"}
    assert converted(raw) == {
        "a": {"type": "string", "label": "a"},
        "b": {"type": "string", "label": "b", "required": True},
    }


SUPPORTED = (
    "supported: type, enum, pattern, minLength, maxLength, minimum, maximum, format, default, title, description"
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            schema(to={"type": "string", "oneOf": [{"format": "email"}]}),
            f"/properties/to/oneOf: not supported ({SUPPORTED})",
        ),
        (schema(to={"type": "string", "$ref": "#/$defs/x"}), "/properties/to/$ref: not supported"),
        ({**schema(), "$defs": {}}, "/$defs: not supported (supported: $schema, type, title"),
        ({**schema(), "patternProperties": {}}, "/patternProperties: not supported"),
        (schema(tags={"type": "array"}), "/properties/tags/type: expected one of 'string', 'integer'"),
        (schema(n={"type": ["integer", "null"]}), "/properties/n/type: expected one of"),
        (schema(n={"type": "integer", "enum": [1, 2]}), "/properties/n/enum: not supported for type 'integer'"),
        (schema(n={"type": "integer", "minLength": 1}), "/properties/n/minLength: not supported for type 'integer'"),
        (schema(s={"type": "string", "minimum": 1}), "/properties/s/minimum: not supported for type 'string'"),
        (schema(b={"type": "boolean", "maximum": 1}), "/properties/b/maximum: not supported for type 'boolean'"),
        (
            schema(s={"type": "string", "pattern": "[a-z]+"}),
            "/properties/s/pattern: expected a regular expression anchored",
        ),
        (schema(s={"type": "string", "pattern": "^[a-z$"}), "/properties/s/pattern: not a regular expression"),
        (schema(s={"type": "string", "format": "date"}), "/properties/s/format: expected one of email, hostname, uri"),
        (
            schema(s={"type": "string", "format": "email", "pattern": "^.+$"}),
            "/properties/s/format: not supported beside 'pattern'",
        ),
        (schema(s={"type": "string", "enum": ["a"], "maxLength": 3}), "/properties/s/maxLength: not supported beside"),
        (schema(s={"type": "string", "enum": []}), "/properties/s/enum: expected a non-empty list of strings"),
        (schema(s={"type": "string", "maxLength": -1}), "/properties/s/maxLength: expected a non-negative integer"),
        (schema(n={"type": "integer", "minimum": "1"}), "/properties/n/minimum: expected a number"),
        (schema(n={"type": "integer", "default": "5"}), "/properties/n/default: expected integer, found a string '5'"),
        ({**schema(), "additionalProperties": True}, "/additionalProperties: expected false"),
        ({**schema(), "type": "array"}, '/type: expected "object"'),
        ({**schema(), "$schema": "http://json-schema.org/draft-07/schema#"}, "/$schema: expected"),
        ({**schema(a={"type": "string"}), "required": ["b"]}, "/required/0: 'b' is not in properties"),
        (schema(**{"a/b": {"type": "string", "if": {}}}), "/properties/a~1b/if: not supported"),
    ],
    ids=[
        "oneOf",
        "ref",
        "defs",
        "patternProperties",
        "array",
        "type-list",
        "integer-enum",
        "integer-length",
        "string-minimum",
        "boolean-maximum",
        "unanchored-pattern",
        "broken-pattern",
        "unknown-format",
        "format-and-pattern",
        "enum-and-length",
        "empty-enum",
        "negative-length",
        "string-minimum-value",
        "bad-default",
        "open-object",
        "not-object",
        "other-draft",
        "required-unknown",
        "pointer-escaped",
    ],
)
def test_anything_outside_the_subset_is_refused_with_its_json_pointer(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(RegistryError) as caught:
        settings_props(raw, "demo: settings.schema.json")
    assert str(caught.value).startswith(f"demo: settings.schema.json: {expected}"), str(caught.value)


def test_pointers_escape_tilde_and_slash() -> None:
    assert pointer("properties", "a~b/c") == "/properties/a~0b~1c"


@pytest.mark.usefixtures("fixture_plugins")
def test_a_plugin_with_an_unsupported_schema_is_broken_and_logged_with_file_and_pointer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="tenantedge.plugins"):
        found = discover()
    assert "bad-settings" not in found.loaded
    expected = "bad-settings: settings.schema.json: /properties/to/oneOf: not supported (supported: type, enum"
    assert expected in (found.broken["bad-settings"].broken or "")
    assert any("plugin bad-settings: disabled" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("name", list(SHIPPED))
def test_every_shipped_settings_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    raw = orjson.loads(SHIPPED[name].read_bytes())
    assert raw["$schema"] == DRAFT
    jsonschema_rs.meta.validate(raw)


@pytest.mark.usefixtures("fixture_plugins")
def test_the_shipped_json_schema_is_what_the_plugin_schema_keeps() -> None:
    plugin = discover().loaded["contact-form"].schema
    assert plugin.settings_json_schema == orjson.loads(SHIPPED["contact-form"].read_bytes())
    assert plugin.to_json()["settings_json_schema"] == plugin.settings_json_schema


# Settings both validators must agree on: a JSON Schema validator with formats on, and the props they become.
AGREEMENT = [
    ("contact-form", {"to": "office@acme.test"}, True),
    ("contact-form", {"to": "office"}, False),
    ("contact-form", {"rate_limit_per_hour": 0}, False),
    ("contact-form", {"rate_limit_per_hour": 100, "max_message_chars": 20000}, True),
    ("contact-form", {"subject_prefix": "[Web]"}, True),
    ("contact-form", {"unknown": 1}, False),
    ("analytics-snippet", {"provider": "plausible", "site_id": "acme.test"}, True),
    ("analytics-snippet", {"provider": "google", "site_id": "acme.test"}, False),
    ("analytics-snippet", {"site_id": "acme.test"}, False),
    ("analytics-snippet", {"provider": "matomo", "site_id": "7", "host": "stats.acme.test"}, True),
    ("analytics-snippet", {"provider": "matomo", "site_id": "7", "host": "evil.test/x.js?"}, False),
    ("analytics-snippet", {"provider": "umami", "site_id": '"><script>'}, False),
    ("echo", {"greeting": "x" * 41}, False),
]


@pytest.mark.parametrize(
    ("name", "settings", "valid"), AGREEMENT, ids=[f"{name}-{index}" for index, (name, _, _) in enumerate(AGREEMENT)]
)
def test_the_json_schema_and_its_props_agree(name: str, settings: dict[str, Any], valid: bool) -> None:
    raw = orjson.loads(SHIPPED[name].read_bytes())
    assert jsonschema_rs.Draft202012Validator(raw, validate_formats=True).is_valid(settings) is valid
    issues: list[ValidationIssue] = []
    validate_props(settings_props(raw, name), settings, ("plugins", name), issues)
    assert (not issues) is valid, issues
