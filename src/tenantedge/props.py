"""Section props schemas: each prop's type, default and limits, and validation of values against them."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantedge.errors import RegistryError, ValidationIssue
from tenantedge.jsonpath import JsonPath, child, item
from tenantedge.media.references import media_path, referenced

# The prop types a schema may use; each maps to one form widget in the page builder.
PROP_TYPES = (
    "string",
    "text",
    "richtext",
    "integer",
    "number",
    "boolean",
    "enum",
    "color",
    "url",
    "image",
    "list",
    "object",
)

COLOR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\Z")
# Links may be site-relative, fragments, http(s), mailto or tel: never javascript:, data: or vbscript:.
_URL = re.compile(r"(?:/(?!/)|#|https?://[^\s/?#]+|mailto:|tel:)[^\s<>\"'`\\]*\Z", re.IGNORECASE)
_IMAGE = re.compile(r"(?:/(?!/)|https?://[^\s/?#]+)[^\s<>\"'`\\]*\Z", re.IGNORECASE)
_STRING_MAX = 2_000
_TEXT_MAX = 100_000
_SPEC_KEYS = {"type", "label", "help", "default", "required", "choices", "min", "max", "maxLength", "items", "props"}
_SPEC_KEYS |= {"minItems", "maxItems", "pattern", "minLength"}


@dataclass(frozen=True, slots=True)
class PropSpec:
    """The schema of one prop: what the validator checks and what the page builder's form shows."""

    name: str
    type: str
    label: str
    help: str = ""
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    min_length: int = 0
    min_items: int = 0
    max_items: int | None = None
    items: PropSpec | None = None
    fields: Mapping[str, PropSpec] = field(default_factory=dict)
    # A string prop's whole value must match it (plugin settings such as a site id use it).
    pattern: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The schema as JSON, in the same shape as the *.schema.json files."""
        out: dict[str, Any] = {"type": self.type, "label": self.label}
        optional = {
            "help": self.help,
            "default": self.default,
            "required": self.required,
            "choices": list(self.choices),
            "min": self.minimum,
            "max": self.maximum,
            "maxLength": self.max_length,
            "minLength": self.min_length,
            "minItems": self.min_items,
            "maxItems": self.max_items,
            "pattern": self.pattern,
        }
        out.update({key: value for key, value in optional.items() if value not in (None, "", False, [], 0)})
        if self.items is not None:
            out["items"] = self.items.to_json()
        if self.fields:
            out["props"] = {name: spec.to_json() for name, spec in self.fields.items()}
        return out


def parse_spec(name: str, raw: object, where: str) -> PropSpec:
    """Read one prop schema from a *.schema.json file; raise RegistryError naming the file and prop."""
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: prop {name!r} must be an object")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise RegistryError(f"{where}: prop {name!r} has unknown keys {sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}")
    kind = raw.get("type")
    if kind not in PROP_TYPES:
        raise RegistryError(f"{where}: prop {name!r} has type {kind!r}; expected one of {', '.join(PROP_TYPES)}")
    items = parse_spec(f"{name}[]", raw["items"], where) if "items" in raw else None
    if kind == "list" and items is None:
        raise RegistryError(f"{where}: list prop {name!r} needs an 'items' schema")
    fields = {key: parse_spec(f"{name}.{key}", value, where) for key, value in dict(raw.get("props", {})).items()}
    if kind == "object" and not fields:
        raise RegistryError(f"{where}: object prop {name!r} needs 'props'")
    pattern = raw.get("pattern")
    if pattern is not None:
        if kind != "string" or not isinstance(pattern, str):
            raise RegistryError(f"{where}: prop {name!r}: 'pattern' is a regular expression, for string props only")
        try:
            re.compile(pattern)
        except re.error as e:
            raise RegistryError(f"{where}: prop {name!r}: 'pattern' is not a regular expression: {e}") from e
    choices = tuple(raw.get("choices", ()))
    if kind == "enum" and not choices:
        raise RegistryError(f"{where}: enum prop {name!r} needs 'choices'")
    spec = PropSpec(
        name=name,
        type=kind,
        label=str(raw.get("label", name)),
        help=str(raw.get("help", "")),
        default=raw.get("default"),
        required=bool(raw.get("required", False)),
        choices=choices,
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        max_length=raw.get("maxLength"),
        min_length=int(raw.get("minLength", 0)),
        min_items=int(raw.get("minItems", 0)),
        max_items=raw.get("maxItems"),
        items=items,
        fields=fields,
        pattern=pattern,
    )
    if spec.default is not None:
        problems: list[ValidationIssue] = []
        validate_value(spec, spec.default, (name, "default"), problems)
        if problems:
            raise RegistryError(f"{where}: {problems[0]}")
    return spec


def default_of(spec: PropSpec) -> Any:
    """The value a prop takes when a document leaves it out."""
    if spec.default is not None:
        return spec.default
    if spec.type == "list":
        return []
    if spec.type == "object":
        return {name: default_of(sub) for name, sub in spec.fields.items()}
    if spec.type == "boolean":
        return False
    return None


def validate_props(
    fields: Mapping[str, PropSpec], raw: object, path: JsonPath, issues: list[ValidationIssue]
) -> dict[str, Any]:
    """Check an object of props against its schema; return it with defaults filled in."""
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected an object of props, found {describe(raw)}"))
        return {name: default_of(spec) for name, spec in fields.items()}
    for key in raw:
        if key not in fields:
            issues.append(ValidationIssue.at(child(path, key), f"unknown prop {key!r}{suggest(key, fields)}"))
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in raw and raw[name] is not None:
            out[name] = validate_value(spec, raw[name], child(path, name), issues)
        elif spec.required:
            issues.append(ValidationIssue.at(child(path, name), f"required prop ({spec.type}) is missing"))
            out[name] = default_of(spec)
        else:
            out[name] = default_of(spec)
    return out


def validate_value(spec: PropSpec, value: Any, path: JsonPath, issues: list[ValidationIssue]) -> Any:
    """Check one value against its spec; on error record an issue and return the value unchanged."""
    problem = _problem(spec, value)
    if problem:
        issues.append(ValidationIssue.at(path, problem))
        return value
    if spec.type == "list":
        assert spec.items is not None
        return [validate_value(spec.items, element, item(path, index), issues) for index, element in enumerate(value)]
    if spec.type == "object":
        return validate_props(spec.fields, value, path, issues)
    if spec.type == "number":
        return float(value)
    if spec.type == "image":
        # An uploaded asset ("asset:<id>") is shown at its digest URL; validating that it exists needs the
        # tenant's library, and is done where documents are written.
        asset = referenced(value)
        return media_path(asset) if asset is not None else value
    return value


def _problem(spec: PropSpec, value: Any) -> str | None:
    kind = spec.type
    if kind in ("string", "text", "richtext"):
        if not isinstance(value, str):
            return f"expected {kind}, found {describe(value)}"
        limit = spec.max_length or (_STRING_MAX if kind == "string" else _TEXT_MAX)
        if len(value) > limit:
            return f"expected at most {limit} characters, found {len(value)}"
        if len(value) < spec.min_length:
            return f"expected at least {spec.min_length} characters, found {len(value)}"
        if kind == "string" and ("\n" in value or "\r" in value):
            return "expected a single line of text, found a line break (use a 'text' prop for several lines)"
        if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
            return f"expected text matching {spec.pattern!r}, found {short(value)}"
        return None
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected {kind}, found {describe(value)}"
        if kind == "integer" and not isinstance(value, int):
            return f"expected an integer, found {value!r}"
        if not math.isfinite(value):
            return f"expected a finite number, found {value!r}"
        if spec.minimum is not None and value < spec.minimum:
            return f"expected at least {spec.minimum:g}, found {value!r}"
        if spec.maximum is not None and value > spec.maximum:
            return f"expected at most {spec.maximum:g}, found {value!r}"
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, found {describe(value)}"
    if kind == "enum":
        if value in spec.choices:
            return None
        hint = suggest(value, spec.choices) if isinstance(value, str) else ""
        return f"expected one of {', '.join(map(repr, spec.choices))}, found {value!r}{hint}"
    if kind == "color":
        if isinstance(value, str) and COLOR.match(value):
            return None
        return f"expected a hex colour like '#7c3aed', found {value!r}"
    if kind in ("url", "image"):
        pattern = _URL if kind == "url" else _IMAGE
        if isinstance(value, str) and len(value) <= _STRING_MAX and pattern.match(value):
            return None
        if kind == "image" and referenced(value) is not None:
            return None
        expected = "'/path', '#anchor', 'https://…', 'mailto:' or 'tel:'"
        if kind == "image":
            expected = "'/path', 'https://…' or 'asset:<id>' (an uploaded asset)"
        return f"expected a link like {expected}, found {short(value)}"
    if kind == "list":
        if not isinstance(value, list):
            return f"expected a list, found {describe(value)}"
        if len(value) < spec.min_items:
            return f"expected at least {spec.min_items} items, found {len(value)}"
        if spec.max_items is not None and len(value) > spec.max_items:
            return f"expected at most {spec.max_items} items, found {len(value)}"
        return None
    if kind == "object":
        return None if isinstance(value, dict) else f"expected an object, found {describe(value)}"
    raise AssertionError(f"unhandled prop type {kind!r}")


def describe(value: object) -> str:
    """A short, safe description of a JSON value for error messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    kind = names.get(type(value))
    if kind is None:
        kind = "a number" if isinstance(value, int | float) else type(value).__name__
    return f"{kind} {short(value)}" if isinstance(value, str | int | float) and not isinstance(value, bool) else kind


def reject_unknown(
    raw: Mapping[str, Any], allowed: tuple[str, ...], path: JsonPath, issues: list[ValidationIssue]
) -> None:
    """An issue for each key of `raw` outside `allowed`, with the nearest allowed one suggested."""
    for key in raw:
        if key not in allowed:
            issues.append(
                ValidationIssue.at(
                    child(path, key), f"unknown key{suggest(key, allowed)}; expected one of {', '.join(allowed)}"
                )
            )


def short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suggest(word: str, candidates: object) -> str:
    """' (did you mean 'X'?)' when a close candidate exists, else ''."""
    names = [str(candidate) for candidate in candidates]  # type: ignore[attr-defined]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
