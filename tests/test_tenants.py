from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from tenantedge.errors import DocumentError
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import DocumentLimits, TenantSet, parse_document, parse_tenant


def site(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "Acme",
        "domains": ["acme.com"],
        "features": {"blog": True},
        "pages": {"/": [{"type": "Hero", "props": {"title": "Hi"}}, {"type": "Features", "props": {"style": "grid"}}]},
    }
    doc.update(overrides)
    return doc


def parse(doc: object, registry: SectionRegistry) -> TenantSet:
    return parse_document(orjson.dumps(doc), "tenants.json", registry)


def errors_of(doc: object, registry: SectionRegistry) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        parse(doc, registry)
    assert caught.value.source == "tenants.json"
    return [str(issue) for issue in caught.value.issues]


def test_valid_document(registry: SectionRegistry) -> None:
    tenants = parse({"tenants": {"acme": site()}}, registry)
    acme = tenants.tenants["acme"]
    assert acme.canonical_domain == "acme.com"
    assert [s.type for s in acme.pages["/"].sections] == ["Hero", "Features"]
    assert acme.pages["/"].sections[1].props["style"] == "grid"
    assert acme.pages["/"].sections[0].props["primary_href"] == "#", "defaults are filled in at load"
    assert [s.type for s in acme.header] == ["Navigation"]
    assert tenants.summary() == "1 tenants, 1 domains, 1 pages"


def test_issue_example_message(registry: SectionRegistry) -> None:
    doc = site(pages={"/": [{"type": "Hero"}, {"type": "Feaures"}]})
    assert errors_of({"tenants": {"codersinflow": doc}}, registry) == [
        "tenants.codersinflow.pages[\"/\"][1].type: unknown section 'Feaures' (did you mean 'Features'?)"
    ]


def page(*sections: Any) -> dict[str, Any]:
    return {"/": list(sections)}


CASES: list[Any] = [
    pytest.param({"tenants": {"Bad_Id": site()}}, "tenants.Bad_Id", "must be 1-63 lowercase", id="bad-tenant-id"),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Hero", "variant": "tiny"}))}},
        'pages["/"][0].variant',
        "unknown variant 'tiny' of 'Hero'",
        id="unknown-variant",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Hero", "props": {"title": 42}}))}},
        'pages["/"][0].props.title',
        "expected string, found a number 42",
        id="prop-type",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Hero", "props": {"titel": "x"}}))}},
        'pages["/"][0].props.titel',
        "unknown prop 'titel' (did you mean 'title'?)",
        id="unknown-prop",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "RichText", "props": {}}))}},
        'pages["/"][0].props.body',
        "required prop (richtext) is missing",
        id="required-prop",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Features", "props": {"style": "gird"}}))}},
        'pages["/"][0].props.style',
        "found 'gird' (did you mean 'grid'?)",
        id="enum-choice",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Blog", "props": {"posts": 99}}))}},
        'pages["/"][0].props.posts',
        "expected at most 12, found 99",
        id="number-range",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Hero", "props": {"primary_href": "javascript:alert(1)"}}))}},
        'pages["/"][0].props.primary_href',
        "expected a link",
        id="javascript-url",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Gallery", "props": {"images": [{"src": "/a.png"}]}}))}},
        'pages["/"][0].props.images[0].alt',
        "required prop (string) is missing",
        id="nested-required",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "Hero", "props": {"title": "two\nlines"}}))}},
        'pages["/"][0].props.title',
        "single line",
        id="string-line-break",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page({"type": "CodeEditor", "props": {"code": "x"}}))}},
        'pages["/"][0].type',
        "component 'CodeEditor' is not enabled",
        id="component-not-enabled",
    ),
    pytest.param(
        {"tenants": {"acme": site(components=["CodeEdtor"])}},
        "tenants.acme.components[0]",
        "unknown component 'CodeEdtor' (did you mean 'CodeEditor'?)",
        id="unknown-component",
    ),
    pytest.param(
        {"tenants": {"acme": site(components=["Hero"])}},
        "tenants.acme.components[0]",
        "unknown component 'Hero'",
        id="section-is-not-component",
    ),
    pytest.param(
        {"tenants": {"acme": site(components=["AIAssistant"])}},
        "tenants.acme.components[0]",
        "needs feature 'aiChat', which is off",
        id="component-feature-off",
    ),
    pytest.param(
        {"tenants": {"acme": site(features={}, pages=page({"type": "Blog"}))}},
        'pages["/"][0].type',
        "section 'Blog' needs feature 'blog', which is off",
        id="section-feature-off",
    ),
    pytest.param(
        {"tenants": {"acme": site(features={"blgo": True})}},
        "tenants.acme.features.blgo",
        "unknown feature 'blgo' (did you mean 'blog'?)",
        id="unknown-feature",
    ),
    pytest.param(
        {"tenants": {"acme": site(features={"blog": "yes"})}},
        "tenants.acme.features.blog",
        "expected true or false",
        id="feature-not-bool",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"colors": {"primary": "purple"}})}},
        "tenants.acme.theme.colors.primary",
        "expected a hex colour like '#7c3aed', found 'purple'",
        id="bad-colour",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"colors": {"primry": "#fff"}})}},
        "tenants.acme.theme.colors.primry",
        "(did you mean 'primary'?)",
        id="unknown-colour",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"colors": {"primary": "#fff;}body{x:y"}})}},
        "tenants.acme.theme.colors.primary",
        "expected a hex colour",
        id="colour-injection",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme="drak")}},
        "tenants.acme.theme.preset",
        "(did you mean 'dark'?)",
        id="bad-preset",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"fonts": ['Inter"; } body { color: red']})}},
        "tenants.acme.theme.fonts[0]",
        "expected a font family name",
        id="font-injection",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"logo": "https://elsewhere.example/logo.png"})}},
        "tenants.acme.theme.logo",
        "expected an uploaded asset, 'asset:<sha256>.<ext>'",
        id="theme-logo-not-an-asset",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"font_files": [{"family": "Brand", "src": "asset:" + "ab" * 32 + ".png"}]})}},
        "tenants.acme.theme.font_files[0].src",
        "expected an uploaded font",
        id="font-file-not-a-font",
    ),
    pytest.param(
        {
            "tenants": {
                "acme": site(theme={"font_files": [{"family": 'B"; }', "src": "asset:" + "ab" * 32 + ".woff2"}]})
            }
        },
        "tenants.acme.theme.font_files[0].family",
        "expected a font family name",
        id="font-file-family-injection",
    ),
    pytest.param(
        {
            "tenants": {
                "acme": site(
                    theme={"font_files": [{"family": "B", "src": "asset:" + "ab" * 32 + ".woff", "weight": True}]}
                )
            }
        },
        "tenants.acme.theme.font_files[0].weight",
        "expected a weight from 1 to 1000",
        id="font-file-weight",
    ),
    pytest.param(
        {"tenants": {"acme": site(theme={"custom_css": "@import url(//evil.example/x.css);"})}},
        "tenants.acme.theme.custom_css",
        "'@import' is not allowed",
        id="css-import",
    ),
    pytest.param(
        {"tenants": {"acme": site(), "other": site(domains=["other.com", "acme.com"])}},
        "tenants.other.domains[1]",
        "domain 'acme.com' is already claimed by tenant 'acme' at tenants.acme.domains[0]",
        id="domain-claimed-twice",
    ),
    pytest.param(
        {"tenants": {"acme": site(), "other": site(domains=["other.com"], aliases=["ACME.com."])}},
        "tenants.other.aliases[0]",
        "domain 'acme.com' is already claimed by tenant 'acme'",
        id="alias-claims-domain",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["acme.com", "*.acme.com"]), "other": site(domains=["shop.acme.com"])}},
        "tenants.other.domains[0]",
        "domain 'shop.acme.com' is covered by '*.acme.com' of tenant 'acme' at tenants.acme.domains[1]",
        id="domain-under-another-wildcard",
    ),
    pytest.param(
        {
            "tenants": {
                "acme": site(domains=["acme.org", "shop.acme.com"]),
                "other": site(domains=["o.com", "*.acme.com"]),
            }
        },
        "tenants.other.domains[1]",
        "covers 'shop.acme.com' of tenant 'acme' at tenants.acme.domains[1]",
        id="wildcard-over-another-domain",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["acme.com"]), "other": site(domains=["other.com", "*.acme.com"])}},
        "tenants.other.domains[1]",
        "covers 'acme.com' of tenant 'acme'",
        id="wildcard-over-another-base-domain",
    ),
    pytest.param(
        {
            "tenants": {
                "acme": site(domains=["acme.org", "*.a.acme.com"]),
                "other": site(domains=["o.com", "*.acme.com"]),
            }
        },
        "tenants.other.domains[1]",
        "covers '*.a.acme.com' of tenant 'acme'",
        id="wildcard-over-another-wildcard",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["acme.com", "*.com"])}},
        "tenants.acme.domains[1]",
        "'*.com' is too broad: 'com' is a public suffix",
        id="wildcard-over-a-tld",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["acme.com", "*.co.uk"])}},
        "tenants.acme.domains[1]",
        "public suffix",
        id="wildcard-over-a-public-suffix",
    ),
    pytest.param(
        {"tenants": {"acme": site(aliases=["co.uk"])}}, "tenants.acme.aliases[0]", "public suffix", id="a-public-suffix"
    ),
    pytest.param(
        {"tenants": {"acme": site(aliases=["127.0.0.1"])}},
        "tenants.acme.aliases[0]",
        "'127.0.0.1' is an IP address; a tenant needs a hostname",
        id="ipv4",
    ),
    pytest.param(
        {"tenants": {"acme": site(aliases=["[2001:db8::1]"])}}, "tenants.acme.aliases[0]", "IP address", id="ipv6"
    ),
    pytest.param(
        {"tenants": {"acme": site(aliases=["localhost"])}},
        "tenants.acme.aliases[0]",
        "'localhost' names this machine; no tenant may claim it",
        id="localhost",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=[f"h{n}.acme.com" for n in range(1001)])}},
        "tenants.acme.domains",
        "expected at most 1000 domains and aliases (TENANTEDGE_MAX_DOMAINS), found 1001",
        id="too-many-domains",
    ),
    pytest.param(
        {"tenants": {"acme": site(description="x" * 400, pages={"/": [], **{f"/p{n}": [] for n in range(90_000)}})}},
        "tenants.acme",
        "expected a tenant document of at most 1048576 bytes (TENANTEDGE_MAX_TENANT_BYTES), found",
        id="too-big",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["acme.com", "acme.com"])}},
        "tenants.acme.domains[1]",
        "listed twice",
        id="domain-listed-twice",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["*.acme.com"])}},
        "tenants.acme.domains[0]",
        "the first domain is canonical",
        id="wildcard-canonical",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=["bad host.com"])}},
        "tenants.acme.domains[0]",
        "malformed host",
        id="bad-domain",
    ),
    pytest.param(
        {"tenants": {"acme": site(domains=[])}},
        "tenants.acme.domains",
        "expected a non-empty list of domains",
        id="no-domains",
    ),
    pytest.param({"tenants": {"acme": {"name": "x"}}}, "tenants.acme.domains", "required", id="missing-domains"),
    pytest.param(
        {"tenants": {"acme": site(pages={"/": [], "/about/": []})}},
        'tenants.acme.pages["/about/"]',
        "expected a path like",
        id="page-trailing-slash",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages={"/": [], "/../etc": []})}},
        'tenants.acme.pages["/../etc"]',
        "expected a path like",
        id="page-traversal",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages={"/": [], "/_edge/health": []})}},
        'tenants.acme.pages["/_edge/health"]',
        "reserved",
        id="page-reserved",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages={"/about": []})}},
        "tenants.acme.pages",
        "a home page '/' is required",
        id="no-home-page",
    ),
    pytest.param(
        {"tenants": {"acme": site(pages=page("Hero"))}},
        'pages["/"][0]',
        "expected a section object",
        id="section-not-object",
    ),
    pytest.param(
        {"tenants": {"acme": site(colour="red")}}, "tenants.acme.colour", "unknown key", id="unknown-tenant-key"
    ),
    pytest.param({"tenants": {"acme": site(version=0)}}, "tenants.acme.version", "at least 1", id="bad-version"),
    pytest.param(
        {"tenants": {"acme": site(lang="english!")}}, "tenants.acme.lang", "expected a language tag", id="bad-lang"
    ),
    pytest.param(
        {"tenants": {"acme": site(layout={"header": [{"type": "Navigation", "props": {"links": [{"label": "x"}]}}]})}},
        "tenants.acme.layout.header[0].props.links[0].href",
        "required prop (url) is missing",
        id="layout-section",
    ),
    pytest.param({"tenants": []}, "tenants", "expected an object of tenants", id="tenants-not-object"),
    pytest.param([1, 2], "", "expected an object with a 'tenants' key, found a list", id="top-level-list"),
    pytest.param({"tenants": {}, "extra": 1}, "extra", "unknown top-level key", id="unknown-top-level"),
    pytest.param({"tenant": {"acme": site()}}, "tenant:", "(did you mean 'tenants'?)", id="shorthand-typo"),
]


@pytest.mark.parametrize(("doc", "path", "message"), CASES)
def test_validation_errors(registry: SectionRegistry, doc: Any, path: str, message: str) -> None:
    errors = errors_of(doc, registry)
    assert any(path in error and message in error for error in errors), errors


def test_every_error_is_reported_at_once(registry: SectionRegistry) -> None:
    doc = site(
        theme={"preset": "neon", "colors": {"primary": "red"}},
        pages=page({"type": "Feaures"}, {"type": "Hero", "variant": "x"}, {"type": "Blog", "props": {"posts": "3"}}),
    )
    errors = errors_of({"tenants": {"acme": doc, "b": site(domains=["acme.com"])}}, registry)
    assert len(errors) == 6, errors


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"tenants": {"a": }}', "line 1, column 19"),
        (b'{\n  "tenants": {\n    "a": {"name": "x",}\n  }\n}', "line 3"),
        (b"", "line 1, column 1"),
        (b"\xff\xfe{}", "malformed JSON"),
    ],
)
def test_malformed_json_names_line_and_column(registry: SectionRegistry, data: bytes, where: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(data, "tenants.json", registry)
    message = str(caught.value)
    assert message.startswith("tenants.json: 1 error")
    assert "malformed JSON" in message and where in message


def test_shorthand(registry: SectionRegistry) -> None:
    tenants = parse({"example.com": {"theme": "dark"}, "Other.Example.org": None}, registry)
    example = tenants.tenants["example-com"]
    assert example.domains == ("example.com",)
    assert example.theme.preset == "dark"
    assert [s.type for s in example.pages["/"].sections] == ["Hero", "Features", "CTA"]
    assert tenants.tenants["other-example-org"].domains == ("other.example.org",)
    match = tenants.hosts.lookup("example.com")
    assert match is not None and match.tenant_id == "example-com"


def test_shorthand_errors_name_the_domain_key(registry: SectionRegistry) -> None:
    errors = errors_of({"example.com": {"theme": {"preset": "neon"}}}, registry)
    assert errors[0].startswith('["example.com"].theme.preset:')


def test_hostile_props_are_kept_as_text(registry: SectionRegistry) -> None:
    hostile = "<script>alert(1)</script>{{7*7}}{% raw %}"
    tenants = parse({"tenants": {"acme": site(pages=page({"type": "Hero", "props": {"title": hostile}}))}}, registry)
    assert tenants.tenants["acme"].pages["/"].sections[0].props["title"] == hostile


def test_digest_follows_content(registry: SectionRegistry) -> None:
    first = parse({"tenants": {"acme": site()}}, registry).tenants["acme"]
    changed = copy.deepcopy(site())
    changed["name"] = "Acme 2"
    second = parse({"tenants": {"acme": changed}}, registry).tenants["acme"]
    assert first.digest != second.digest
    assert first.digest == parse({"tenants": {"acme": site()}}, registry).tenants["acme"].digest


def test_parse_single_tenant(registry: SectionRegistry) -> None:
    assert parse_tenant("acme", site(), registry).name == "Acme"
    with pytest.raises(DocumentError, match="tenant id 'Nope!'"):
        parse_tenant("Nope!", site(), registry)


def test_demo_tenants(demo: TenantSet) -> None:
    assert {"codersinflow", "darkflows", "clientsite", "basicsite"} <= set(demo.tenants)
    coders = demo.tenants["codersinflow"]
    assert coders.theme.preset == "dark" and coders.feature("blog")
    assert coders.components == {"CodeEditor", "AIAssistant"}
    assert [s.type for s in demo.tenants["clientsite"].pages["/"].sections] == [
        "Hero",
        "Services",
        "Contact",
        "contact-form/Contact",
    ]
    basic = demo.tenants["basicsite"]
    assert not any(basic.feature(name) for name in ("blog", "aiChat", "payments", "contactForm"))
    for tenant_id in demo.tenants:
        match = demo.hosts.lookup(f"{tenant_id}.localhost")
        assert match is not None and match.tenant_id == tenant_id, f"{tenant_id}.localhost must answer"


def test_documents_are_kept_only_when_asked(registry: SectionRegistry) -> None:
    data = orjson.dumps({"tenants": {"acme": site()}})
    assert parse_document(data, "t", registry).documents == {}
    kept = parse_document(data, "t", registry, documents=True).documents["acme"]
    assert orjson.loads(kept) == site()


def test_section_and_css_limits_are_the_writers_settings(registry: SectionRegistry) -> None:
    hero = {"type": "Hero", "props": {"title": "Hi"}}
    doc = site(pages={"/": [hero] * 3}, theme={"custom_css": ".a{color:red}"})
    limits = DocumentLimits(max_sections=2, max_custom_css=8)
    with pytest.raises(DocumentError) as caught:
        parse_tenant("acme", doc, registry, "tenant acme", limits=limits)
    assert [str(issue) for issue in caught.value.issues] == [
        "theme.custom_css: expected at most 8 bytes (TENANTEDGE_MAX_CUSTOM_CSS_BYTES), found 13",
        'pages["/"]: expected at most 2 sections (TENANTEDGE_MAX_SECTIONS), found 3',
    ]
    assert parse_tenant("acme", doc, registry, "tenant acme", limits=DocumentLimits()).pages["/"].sections
    # A document already published is read back as it was accepted, whatever the limits are now.
    assert len(parse_tenant("acme", doc, registry, "tenant acme", limits=None).pages["/"].sections) == 3


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        pytest.param(
            {"blog": False},
            [
                "tenants.acme.features.blog: switching off 'blog' leaves Blog sections on pages '/', '/news' and in "
                'the footer (tenants.acme.pages["/"][1], tenants.acme.pages["/"][2], '
                'tenants.acme.pages["/news"].sections[0], …): remove them first'
            ],
            id="switched-off",
        ),
        pytest.param(
            {},
            [
                f"tenants.acme.{where}.type: section 'Blog' needs feature 'blog', which is off for this tenant"
                for where in ("layout.footer[0]", 'pages["/"][1]', 'pages["/"][2]', 'pages["/news"].sections[0]')
            ],
            id="never-on",
        ),
    ],
)
def test_a_feature_off_names_the_sections_that_need_it(
    registry: SectionRegistry, features: dict[str, bool], expected: list[str]
) -> None:
    blog = {"type": "Blog"}
    doc = site(
        features=features,
        pages={"/": [{"type": "Hero"}, blog, blog], "/news": {"title": "News", "sections": [blog]}},
        layout={"footer": [blog]},
    )
    assert errors_of({"tenants": {"acme": doc}}, registry) == expected
