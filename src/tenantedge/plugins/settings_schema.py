"""A plugin's settings schema: a subset of JSON Schema (draft 2020-12) read into props, so one validator checks them.

The subset maps one to one onto props (tenantedge.props), which validate tenants' settings with JSON paths and give
the dashboard its form:

    top level   $schema (the draft 2020-12 URI), type "object", title, description, properties, required,
                additionalProperties false
    a property  type string/integer/number/boolean, enum (of strings: a choice), pattern (anchored ^…$),
                minLength, maxLength, minimum, maximum, format email/hostname/uri, default,
                title (the form's label), description (its help)

Anything else is refused with its JSON pointer, so a schema never promises a check that is not made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tenantedge.errors import RegistryError, ValidationIssue
from tenantedge.props import PropSpec, parse_spec, validate_value

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TOP_KEYWORDS = ("$schema", "type", "title", "description", "properties", "required", "additionalProperties")
PROPERTY_KEYWORDS = (
    "type",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "format",
    "default",
    "title",
    "description",
)
_TYPES = ("string", "integer", "number", "boolean")
_STRING_ONLY = ("enum", "pattern", "minLength", "maxLength", "format")
_NUMBER_ONLY = ("minimum", "maximum")
_COUNTS = ("minLength", "maxLength")
# What each string format is checked with (a whole-string match); "uri" is the props `url` type instead.
FORMAT_PATTERNS = {
    "email": r"[^@\s<>\"',;]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    "hostname": r"(?=[A-Za-z0-9.-]{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
}
FORMATS = (*FORMAT_PATTERNS, "uri")


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) to a keyword of the schema."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def settings_props(schema: object, where: str) -> dict[str, PropSpec]:
    """The props a settings schema declares; RegistryError says `<where>: <pointer>: <what is wrong>`."""
    if not isinstance(schema, dict):
        raise RegistryError(f"{where}: expected a JSON Schema object, found {type(schema).__name__}")
    _only(schema, TOP_KEYWORDS, (), where)
    if schema.get("$schema", DRAFT) != DRAFT:
        raise RegistryError(f"{where}: {pointer('$schema')}: expected {DRAFT!r}")
    if schema.get("type") != "object":
        raise RegistryError(f'{where}: {pointer("type")}: expected "object"')
    if schema.get("additionalProperties") is not False:
        # Props refuse settings they do not declare, so the schema must say so.
        raise RegistryError(f"{where}: {pointer('additionalProperties')}: expected false")
    for keyword in ("title", "description"):
        if not isinstance(schema.get(keyword, ""), str):
            raise RegistryError(f"{where}: {pointer(keyword)}: expected a string")
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise RegistryError(f"{where}: {pointer('properties')}: expected an object")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise RegistryError(f"{where}: {pointer('required')}: expected a list of property names")
    for index, name in enumerate(required):
        if name not in properties:
            raise RegistryError(f"{where}: {pointer('required', str(index))}: {name!r} is not in properties")
    return {name: _spec(name, raw, name in required, where) for name, raw in properties.items()}


def _spec(name: str, raw: object, required: bool, where: str) -> PropSpec:
    props = _prop(name, raw, required, where)
    spec = parse_spec(name, {key: value for key, value in props.items() if key != "default"}, where)
    if "default" not in props:
        return spec
    # Checked here rather than by parse_spec, so the message points at the keyword.
    issues: list[ValidationIssue] = []
    validate_value(spec, props["default"], (), issues)
    if issues:
        raise RegistryError(f"{where}: {pointer('properties', name, 'default')}: {issues[0].message}")
    return replace(spec, default=props["default"])


def _only(schema: Mapping[str, Any], allowed: tuple[str, ...], at: tuple[str, ...], where: str) -> None:
    for keyword in schema:
        if keyword not in allowed:
            raise RegistryError(f"{where}: {pointer(*at, keyword)}: not supported (supported: {', '.join(allowed)})")


def _prop(name: str, raw: object, required: bool, where: str) -> dict[str, Any]:
    """One property as a props spec (in the *.schema.json shape parse_spec reads)."""
    at = ("properties", name)
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: {pointer(*at)}: expected an object")
    _only(raw, PROPERTY_KEYWORDS, at, where)
    kind = raw.get("type")
    if kind not in _TYPES:
        raise RegistryError(f"{where}: {pointer(*at, 'type')}: expected one of {', '.join(map(repr, _TYPES))}")
    misplaced = [key for key in raw if key in (_NUMBER_ONLY if kind == "string" else _STRING_ONLY)]
    if kind == "boolean":
        misplaced += [key for key in raw if key in _NUMBER_ONLY]
    if misplaced:
        raise RegistryError(f"{where}: {pointer(*at, misplaced[0])}: not supported for type {kind!r}")
    spec: dict[str, Any] = {"type": kind, "label": raw.get("title", name), "help": raw.get("description", "")}
    for keyword in ("title", "description"):
        if not isinstance(raw.get(keyword, ""), str):
            raise RegistryError(f"{where}: {pointer(*at, keyword)}: expected a string")
    if required:
        spec["required"] = True
    if "default" in raw:
        spec["default"] = raw["default"]
    for keyword in _NUMBER_ONLY:
        if keyword in raw:
            if isinstance(raw[keyword], bool) or not isinstance(raw[keyword], int | float):
                raise RegistryError(f"{where}: {pointer(*at, keyword)}: expected a number")
            spec[keyword[:3]] = raw[keyword]
    for keyword in _COUNTS:
        if keyword in raw:
            if isinstance(raw[keyword], bool) or not isinstance(raw[keyword], int) or raw[keyword] < 0:
                raise RegistryError(f"{where}: {pointer(*at, keyword)}: expected a non-negative integer")
            spec[keyword] = raw[keyword]
    if "enum" in raw:
        choices = raw["enum"]
        if not isinstance(choices, list) or not choices or not all(isinstance(choice, str) for choice in choices):
            raise RegistryError(f"{where}: {pointer(*at, 'enum')}: expected a non-empty list of strings")
        extra = [key for key in raw if key in ("pattern", "format", *_COUNTS)]
        if extra:
            raise RegistryError(f"{where}: {pointer(*at, extra[0])}: not supported beside 'enum'")
        spec.update(type="enum", choices=choices)
    if "pattern" in raw and "format" in raw:
        raise RegistryError(f"{where}: {pointer(*at, 'format')}: not supported beside 'pattern'")
    if "pattern" in raw:
        spec["pattern"] = _whole(raw["pattern"], pointer(*at, "pattern"), where)
    if "format" in raw:
        form = raw["format"]
        if form not in FORMATS:
            raise RegistryError(f"{where}: {pointer(*at, 'format')}: expected one of {', '.join(FORMATS)}")
        if form == "uri":
            if "minLength" in raw or "maxLength" in raw:
                raise RegistryError(f"{where}: {pointer(*at, 'format')}: 'uri' takes no minLength or maxLength")
            spec["type"] = "url"
        else:
            spec["pattern"] = FORMAT_PATTERNS[form]
    return spec


def _whole(pattern: object, at: str, where: str) -> str:
    """A JSON Schema pattern, which searches, as the whole-string match props make: it must be anchored."""
    if not isinstance(pattern, str) or not (pattern.startswith("^") and pattern.endswith("$")) or len(pattern) < 2:
        raise RegistryError(f"{where}: {at}: expected a regular expression anchored at both ends, like '^[a-z]+$'")
    inner = pattern[1:-1]
    try:
        re.compile(inner)
    except re.error as e:
        raise RegistryError(f"{where}: {at}: not a regular expression: {e}") from e
    return inner
