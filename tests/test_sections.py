from __future__ import annotations

from pathlib import Path

import pytest

from tenantedge.errors import RegistryError
from tenantedge.props import PROP_TYPES, PropSpec
from tenantedge.sections import DEFAULT_VARIANT, FEATURES, SectionRegistry, parse_section_schema

REQUIRED_TYPES = {
    "Navigation", "Hero", "Features", "Services", "Team", "Testimonials", "Pricing",
    "CTA", "Blog", "Contact", "Gallery", "RichText", "Footer",
}  # fmt: skip


def test_the_library_has_every_required_section(registry: SectionRegistry) -> None:
    assert set(registry.names()) >= REQUIRED_TYPES
    assert len(registry) >= 13
    assert registry.components() == ["AIAssistant", "CodeEditor"]


def _walk(spec: PropSpec) -> list[PropSpec]:
    nested = [spec]
    if spec.items is not None:
        nested += _walk(spec.items)
    for field in spec.fields.values():
        nested += _walk(field)
    return nested


def test_every_schema_is_complete(registry: SectionRegistry) -> None:
    """Each prop carries what the page builder's form needs: a type it knows, a label, choices for enums."""
    for section in registry:
        assert section.title and section.description, section.type
        assert DEFAULT_VARIANT in section.variants
        for prop in section.props.values():
            for spec in _walk(prop):
                assert spec.type in PROP_TYPES
                assert spec.label, f"{section.type}.{spec.name} has no label"
                if spec.type == "enum":
                    assert spec.default in spec.choices, f"{section.type}.{spec.name}"
        schema = section.to_json()
        assert schema["type"] == section.type and set(schema["props"]) == set(section.props)


def test_hero_has_variants(registry: SectionRegistry) -> None:
    hero = registry.get("Hero")
    assert hero is not None and {"default", "simple", "split"} <= set(hero.variants)


def test_features_needed_by_sections_are_known(registry: SectionRegistry) -> None:
    assert {section.feature for section in registry if section.feature} <= set(FEATURES)


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("Hero", b"{", "malformed JSON at line 1"),
        ("Hero", b"[]", "expected a JSON object"),
        ("hero", b"{}", "must be CamelCase"),
        ("Hero", b'{"titel": "x"}', "unknown keys ['titel']"),
        ("Hero", b'{"variants": {"simple": "x"}}', "'default' entry"),
        ("Hero", b'{"variants": {"default": "x", "Big One": "y"}}', "variant 'Big One'"),
        ("Hero", b'{"feature": "teleport"}', "feature 'teleport' is unknown"),
        ("Hero", b'{"props": {"x": {"type": "str"}}}', "type 'str'; expected one of"),
        ("Hero", b'{"props": {"x": {"type": "list"}}}', "needs an 'items' schema"),
        ("Hero", b'{"props": {"x": {"type": "enum"}}}', "needs 'choices'"),
        ("Hero", b'{"props": {"x": {"type": "integer", "default": "3"}}}', "x.default: expected integer"),
        ("Hero", b'{"props": {"x": {"type": "string", "colour": 1}}}', "unknown keys ['colour']"),
    ],
)
def test_bad_schema_files(name: str, body: bytes, message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_section_schema(name, body, f"sections/{name}.schema.json")


def test_schema_without_template_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Lonely.schema.json").write_text("{}")
    with pytest.raises(RegistryError, match=r"no template Lonely\.html"):
        SectionRegistry.from_directories([tmp_path])


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"no \*\.schema\.json"):
        SectionRegistry.from_directories([tmp_path])
