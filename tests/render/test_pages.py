from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import Tenant, TenantSet, parse_document
from tests.conftest import FOLDERS


def with_acme_files(tmp_path: Path, assets: AssetCatalog, files: dict[str, str]) -> PageRenderer:
    """A renderer over the packaged default templates and tenant acme's own files, named relative to its folder."""
    for name, text in files.items():
        path = tmp_path / "tenants" / "acme" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return PageRenderer(TemplateFolders.find(tmp_path), assets)


def tenant_with(registry: SectionRegistry, sections: list[Any], **extra: Any) -> Tenant:
    doc = {"domains": ["acme.com"], "pages": {"/": sections}, **extra}
    return parse_document(orjson.dumps({"tenants": {"acme": doc}}), "test", registry).tenants["acme"]


@pytest.mark.parametrize(
    ("tenant_id", "path", "expected"),
    [
        ("codersinflow", "/", ["te-hero--terminal", "AI Coding", "retry.py", "No posts yet.", "Ask the assistant"]),
        ("codersinflow", "/about", ["About Coders in Flow", "<strong>boilerplate</strong>", "Alex Rivera"]),
        ("codersinflow", "/pricing", ["te-plan--highlighted", "$19"]),
        ("darkflows", "/", ["te-hero--split", "te-section__head--numbered", "Nadia Brooks"]),
        ("darkflows", "/work", ["<title>Work · DarkFlows</title>", "Tidal — title sequence"]),
        (
            "clientsite",
            "/",
            ["te-notice", "te-button--square", "office@clientsite.com", '<section class="te-section contact-form"'],
        ),
        ("clientsite", "/about", ["Helen Park", "What people say"]),
        ("basicsite", "/", ["Fresh bread", "<li>Cardamom buns</li>", "Tuesday to Sunday"]),
    ],
)
def test_demo_pages(renderer: PageRenderer, demo: TenantSet, tenant_id: str, path: str, expected: list[str]) -> None:
    page = renderer.render_page(demo.tenants[tenant_id], path)
    assert page is not None and page.status == 200
    for text in expected:
        assert text in page.html, text
    assert "failed to render" not in page.html
    assert page.html.startswith("<!doctype html>")
    assert 'class="te-skip" href="#main"' in page.html and '<main id="main"' in page.html


def test_demo_sites_look_different(renderer: PageRenderer, demo: TenantSet) -> None:
    stylesheets = {renderer.stylesheet(tenant).digest for tenant in demo.tenants.values()}
    assert len(stylesheets) == len(demo.tenants)
    homes = {renderer.render_page(tenant, "/").html for tenant in demo.tenants.values()}  # type: ignore[union-attr]
    assert len(homes) == len(demo.tenants)


def test_every_section_type_renders_with_its_defaults(
    renderer: PageRenderer, builtin_registry: SectionRegistry
) -> None:
    registry = builtin_registry
    required = {"RichText": {"body": "Hello *world*"}, "CodeEditor": {"code": "print(1)"}}
    sections = [
        {"type": spec.type, "variant": variant, "props": required.get(spec.type, {})}
        for spec in registry
        for variant in spec.variants
    ]
    tenant = tenant_with(
        registry,
        sections,
        features={"blog": True, "aiChat": True, "payments": True, "contactForm": True},
        components=registry.components(),
    )
    page = renderer.render_page(tenant, "/")
    assert page is not None
    assert "failed to render" not in page.html
    assert len(page.templates) == len(sections) + 2  # plus the default Navigation and Footer
    assert 'href="#"' not in page.html and 'action="#"' not in page.html, "a default links nowhere"


def test_explain_lists_the_template_file_of_each_section(renderer: PageRenderer, demo: TenantSet) -> None:
    page = renderer.render_page(demo.tenants["codersinflow"], "/about")
    assert page is not None
    assert list(page.templates) == [
        "default/sections/Navigation.html",
        "tenants/codersinflow/sections/Hero.html",  # the tenant's Hero beats the default Hero.simple
        "default/sections/RichText.html",
        "default/sections/Team.html",
        "default/sections/Footer.html",
    ]


HOSTILE = '<script>alert(1)</script>{{7*7}}{% if 1 %}x{% endif %}" onmouseover="alert(1)'


def test_props_are_escaped_and_never_evaluated(renderer: PageRenderer, registry: SectionRegistry) -> None:
    tenant = tenant_with(
        registry,
        [
            {"type": "Hero", "props": {"title": HOSTILE, "image_alt": HOSTILE}, "variant": "split"},
            {"type": "Features", "props": {"items": [{"title": HOSTILE, "text": "<b>"}]}},
        ],
        name=HOSTILE,
    )
    html = renderer.render_page(tenant, "/").html  # type: ignore[union-attr]
    assert "<script>alert" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}{% if 1 %}x{% endif %}&#34; onmouseover=&#34;alert(1)" in html
    assert "49" not in html


@pytest.mark.parametrize(
    ("markdown", "present", "absent"),
    [
        ("**bold** and [a link](/about)", ["<strong>bold</strong>", '<a href="/about">a link</a>'], []),
        ("<script>alert(1)</script>", ["&lt;script&gt;"], ["<script>"]),
        ('<img src=x onerror="alert(1)">', ["&lt;img"], ["<img"]),
        ("[click](javascript:alert(1))", [], ['href="javascript']),
        ("[click](JAVASCRIPT:alert(1))", [], ['href="JAVASCRIPT']),
        ("[x](vbscript:msgbox)", [], ['href="vbscript']),
    ],
)
def test_richtext_is_safe(
    renderer: PageRenderer, registry: SectionRegistry, markdown: str, present: list[str], absent: list[str]
) -> None:
    tenant = tenant_with(registry, [{"type": "RichText", "props": {"body": markdown}}])
    html = renderer.render_page(tenant, "/").html  # type: ignore[union-attr]
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_feature_gates_part_of_a_template(renderer: PageRenderer, registry: SectionRegistry) -> None:
    contact = [{"type": "Contact", "props": {"email": "a@b.c", "form_action": "https://forms.example/x"}}]
    on = renderer.render_page(tenant_with(registry, contact, features={"contactForm": True}), "/")
    off = renderer.render_page(tenant_with(registry, contact, features={"contactForm": False}), "/")
    assert on is not None and off is not None
    assert '<form class="te-form' in on.html
    assert '<form class="te-form' not in off.html and "a@b.c" in off.html


def test_unknown_page_is_none_and_themed_404_uses_tenant_layout(renderer: PageRenderer, demo: TenantSet) -> None:
    tenant = demo.tenants["clientsite"]
    assert renderer.render_page(tenant, "/nope") is None
    page = renderer.render_not_found(tenant)
    assert page.status == 404
    assert "Harbor &amp; Pine Law" in page.html and "te-notice" in page.html
    assert renderer.stylesheet(tenant).digest in page.html


def test_no_site_page_shows_no_tenant(renderer: PageRenderer, demo: TenantSet) -> None:
    page = renderer.render_no_site()
    assert page.status == 404 and "No site here" in page.html
    assert page.templates == ("default/errors/no-site.html",)
    for tenant in demo.tenants.values():
        assert tenant.name.replace("&", "&amp;") not in page.html
    assert "/_edge/theme.css" not in page.html


def test_broken_tenant_template_does_not_break_the_page(
    tmp_path: Path, assets: AssetCatalog, registry: SectionRegistry
) -> None:
    broken = {"sections/Hero.html": "{{ props.title | no_such_filter }}", "sections/CTA.html": "{{ 1 / 0 }}"}
    renderer = with_acme_files(tmp_path, assets, broken)
    tenant = tenant_with(registry, [{"type": "CTA"}, {"type": "Features"}])
    page = renderer.render_page(tenant, "/")
    assert page is not None and page.status == 200
    assert "<!-- section 0 failed to render -->" in page.html
    assert "Why choose us" in page.html
    problems = renderer.compile_all()
    assert len(problems) == 1 and "tenants/acme/sections/Hero.html:1" in problems[0] and "no_such_filter" in problems[0]


def test_repository_templates_all_compile(renderer: PageRenderer) -> None:
    assert renderer.compile_all() == []


def test_navigation_lists_top_level_pages(renderer: PageRenderer, registry: SectionRegistry) -> None:
    doc = {"/": [{"type": "Hero"}], "/about": {"title": "Who we are", "sections": []}, "/a/b": [], "/contact-us": []}
    tenant = parse_document(
        orjson.dumps({"tenants": {"acme": {"domains": ["acme.com"], "pages": doc}}}), "t", registry
    ).tenants["acme"]
    html = renderer.render_page(tenant, "/about").html  # type: ignore[union-attr]
    assert '<a href="/about" aria-current="page">Who we are</a>' in html
    assert '<a href="/contact-us">Contact us</a>' in html
    assert 'href="/a/b"' not in html


@pytest.mark.parametrize(
    ("layout", "expected", "absent"),
    [
        # Nothing but extends: the parent renders as it is.
        ('{% extends "layouts/base.html" %}', ['class="te-page"', "<main"], []),
        # Blocks of its own: the tenant's layout itself renders, its blocks over the parent's.
        (
            '{% extends "layouts/base.html" %}{% block body_class %}acme-body{% endblock %}'
            "{% block footer %}<footer>acme {{ title }}</footer>{% endblock %}",
            ['class="acme-body"', "<footer>acme Acme</footer>"],
            ['class="te-page"', "te-footer"],
        ),
        # Extends its own base: the tenant's base, not the default one.
        ('{% extends "layouts/acme-base.html" %}', ["<html data-acme>", "<main>"], ["te-skip"]),
        # No extends at all.
        ("<html data-plain>{{ main }}</html>", ["<html data-plain>"], ["<head>"]),
    ],
)
def test_a_tenant_page_layout_renders_as_written(
    tmp_path: Path,
    assets: AssetCatalog,
    registry: SectionRegistry,
    layout: str,
    expected: list[str],
    absent: list[str],
) -> None:
    acme_base = "<html data-acme><main>{{ main }}</main></html>"
    renderer = with_acme_files(tmp_path, assets, {"layouts/page.html": layout, "layouts/acme-base.html": acme_base})
    tenant = tenant_with(registry, [{"type": "Hero", "props": {"title": "Hello <there>"}}], name="Acme")
    for _ in range(2):  # the layout resolved on the first render serves the second alike
        page = renderer.render_page(tenant, "/")
        assert page is not None
        assert "Hello &lt;there&gt;" in page.html
        for text in expected:
            assert text in page.html
        for text in absent:
            assert text not in page.html


def test_a_failing_layout_raises_with_the_template_line(
    tmp_path: Path, assets: AssetCatalog, registry: SectionRegistry
) -> None:
    renderer = with_acme_files(tmp_path, assets, {"layouts/page.html": "<html>\n{{ main }}\n{{ 1 // 0 }}</html>"})
    with pytest.raises(ZeroDivisionError) as raised:
        renderer.render_page(tenant_with(registry, [{"type": "Hero"}]), "/")
    frames = [(str(entry.path), entry.lineno + 1) for entry in raised.traceback]
    assert (str(tmp_path / "tenants" / "acme" / "layouts" / "page.html"), 3) in frames


@pytest.mark.parametrize("title", ["Puzzle", "Puzzle \U0001f9e9"])
def test_fragments_are_kept_a_byte_a_character_and_counted_in_bytes(
    assets: AssetCatalog, registry: SectionRegistry, title: str
) -> None:
    heroes = [{"type": "Hero", "props": {"title": title, "subtitle": "Words. " * 50}} for _ in range(6)]
    tenant = tenant_with(registry, heroes)  # the sections make most of the page
    roomy = PageRenderer(FOLDERS, assets)
    page = roomy.render_page(tenant, "/")
    assert page is not None and roomy._fragments is not None and len(roomy._fragments) == 1
    # Kept as ASCII text or UTF-8 bytes, never as a string of four bytes a character (one emoji makes it so).
    kept = int(roomy._fragments.currsize)
    assert len(page.html) // 2 < kept < len(page.html) + 1000
    assert roomy.render_page(tenant, "/") == page  # served from the fragments, as rendered
    # A budget the kept regions do not fit in: the page is rendered every time, never kept, never refused.
    small = PageRenderer(FOLDERS, assets, fragment_bytes=kept - 1)
    for _ in range(2):
        assert small.render_page(tenant, "/") == page
    assert small._fragments is not None and len(small._fragments) == 0


def test_every_section_of_the_main_region_carries_its_anchor(
    renderer: PageRenderer, builtin_registry: SectionRegistry
) -> None:
    registry = builtin_registry
    """`#s2` in a link reaches the page's third section (Contact keeps its own `contact`)."""
    required = {"RichText": {"body": "x"}, "CodeEditor": {"code": "x"}}
    types = [spec.type for spec in registry if spec.type not in ("Navigation", "Footer", "Contact")]
    tenant = tenant_with(
        registry,
        [{"type": kind, "props": required.get(kind, {})} for kind in types],
        features={"blog": True, "aiChat": True, "payments": True},
        components=registry.components(),
    )
    html = renderer.render_page(tenant, "/").html  # type: ignore[union-attr]
    for index, kind in enumerate(types):
        assert re.search(f'<section class="te-section [^"]*" id="s{index}"', html), kind


@pytest.mark.parametrize(
    ("endpoint", "action", "chip"),
    [
        (None, 'action="#s0"', 'href="?q=Is%20it%20free%3F#s0"'),
        (
            "https://chat.example/ask",
            'action="https://chat.example/ask"',
            'href="https://chat.example/ask?q=Is%20it%20free%3F"',
        ),
    ],
    ids=["no endpoint: back to the panel", "an endpoint"],
)
def test_the_assistant_asks_only_where_an_answer_can_come_from(
    renderer: PageRenderer, registry: SectionRegistry, endpoint: str | None, action: str, chip: str
) -> None:
    props: dict[str, Any] = {"suggestions": ["Is it free?"]}
    if endpoint:
        props["endpoint"] = endpoint
    tenant = tenant_with(
        registry, [{"type": "AIAssistant", "props": props}], features={"aiChat": True}, components=["AIAssistant"]
    )
    html = renderer.render_page(tenant, "/").html  # type: ignore[union-attr]
    assert action in html and chip in html


def test_a_post_written_in_the_document_links_only_where_it_says(
    renderer: PageRenderer, registry: SectionRegistry
) -> None:
    items = [{"title": "Nowhere to read"}, {"title": "Elsewhere", "href": "https://example.com/post"}]
    tenant = tenant_with(registry, [{"type": "Blog", "props": {"items": items}}], features={"blog": True})
    html = renderer.render_page(tenant, "/").html  # type: ignore[union-attr]
    assert "<h3>Nowhere to read</h3>" in html
    assert '<h3><a href="https://example.com/post">Elsewhere</a></h3>' in html
    assert 'href="#"' not in html
