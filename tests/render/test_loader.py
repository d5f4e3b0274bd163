from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import TemplateNotFound
from jinja2.exceptions import SecurityError

from tenantedge.render.folders import TemplateFolders
from tenantedge.render.loader import DEFAULT_NAMESPACE, FallbackLoader, TenantEnvironment


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "default/sections/Hero.html": "default Hero {% include 'partials/badge.html' %}",
            "default/sections/Hero.simple.html": "default Hero.simple",
            "default/partials/badge.html": "default badge",
            "default/partials/macros.html": "{% macro b() %}default macro{% endmacro %}",
            "default/sections/Card.html": "{% from 'partials/macros.html' import b %}{{ b() }}",
            "default/layouts/base.html": "<base>{% block body %}default body{% endblock %}</base>",
            "default/layouts/page.html": "{% extends 'layouts/base.html' %}",
            "tenants/acme/partials/badge.html": "acme badge",
            "tenants/acme/partials/macros.html": "{% macro b() %}acme macro{% endmacro %}",
            "tenants/acme/layouts/base.html": "<acme>{% block body %}{% endblock %}</acme>",
            "tenants/solo/sections/Hero.html": "solo Hero",
        },
    )


def env_for(root: Path, *, watch: bool = False) -> tuple[FallbackLoader, TenantEnvironment]:
    loader = FallbackLoader(TemplateFolders((root,)), watch=watch)
    return loader, TenantEnvironment(loader=loader, autoescape=True, auto_reload=watch)


def render(env: TenantEnvironment, name: str) -> str:
    return env.get_template(name).render()


def test_namespaces(root: Path) -> None:
    loader, _ = env_for(root)
    assert loader.namespace("acme") == "acme"
    assert loader.namespace("plain") == DEFAULT_NAMESPACE


def test_default_template_for_a_tenant_without_overrides(root: Path) -> None:
    _, env = env_for(root)
    assert render(env, "_/sections/Hero.html") == "default Hero default badge"


def test_tenant_partial_included_by_default_template_is_used(root: Path) -> None:
    _, env = env_for(root)
    assert render(env, "acme/sections/Hero.html") == "default Hero acme badge"


def test_tenant_macros_imported_by_default_template_are_used(root: Path) -> None:
    _, env = env_for(root)
    assert render(env, "acme/sections/Card.html") == "acme macro"
    assert render(env, "_/sections/Card.html") == "default macro"


def test_tenant_layout_extended_by_default_page_is_used(root: Path) -> None:
    _, env = env_for(root)
    assert render(env, "acme/layouts/page.html") == "<acme></acme>"
    assert render(env, "_/layouts/page.html") == "<base>default body</base>"


@pytest.mark.parametrize(
    ("namespace", "candidates", "chosen"),
    [
        pytest.param("acme", ["sections/Hero.simple.html", "sections/Hero.html"], "acme/sections/Hero.simple.html",
                     id="default-variant-when-tenant-has-none"),
        pytest.param("solo", ["sections/Hero.simple.html", "sections/Hero.html"], "solo/sections/Hero.html",
                     id="tenant-base-beats-default-variant"),
        pytest.param("_", ["sections/Hero.simple.html", "sections/Hero.html"], "_/sections/Hero.simple.html",
                     id="default-variant"),
        pytest.param("_", ["sections/Hero.split.html", "sections/Hero.html"], "_/sections/Hero.html",
                     id="default-base"),
    ],
)  # fmt: skip
def test_choose_follows_the_chain(root: Path, namespace: str, candidates: list[str], chosen: str) -> None:
    loader, env = env_for(root)
    assert loader.choose(namespace, candidates) == chosen
    env.get_template(chosen)  # the chosen name resolves through the loader


def test_chain_resolves_to_the_right_files(root: Path) -> None:
    loader, env = env_for(root)
    assert render(env, loader.choose("solo", ["sections/Hero.simple.html", "sections/Hero.html"])) == "solo Hero"
    assert (
        render(env, loader.choose("acme", ["sections/Hero.simple.html", "sections/Hero.html"])) == "default Hero.simple"
    )


def test_missing_template(root: Path) -> None:
    loader, env = env_for(root)
    with pytest.raises(TemplateNotFound):
        loader.choose("acme", ["sections/Nope.html"])
    with pytest.raises(TemplateNotFound):
        env.get_template("acme/sections/Nope.html")
    with pytest.raises(TemplateNotFound):
        env.get_template("no-namespace.html")


@pytest.mark.parametrize("name", ["_/../default/sections/Hero.html", "acme/../../etc/passwd", "_/sections/../../x"])
def test_traversal_is_refused(root: Path, name: str) -> None:
    _, env = env_for(root)
    with pytest.raises(TemplateNotFound):
        env.get_template(name)


def test_tenants_without_overrides_share_compiled_templates(root: Path) -> None:
    loader, env = env_for(root)
    names = {f"{loader.namespace(f'tenant{n}')}/sections/Hero.html" for n in range(1000)}
    assert names == {"_/sections/Hero.html"}
    assert env.get_template("_/sections/Hero.html") is env.get_template("_/sections/Hero.html")


def test_new_tenant_override_is_noticed_when_watching(root: Path) -> None:
    loader, env = env_for(root, watch=True)
    name = f"{loader.namespace('late')}/sections/Hero.html"
    assert render(env, name) == "default Hero default badge"
    write(root, {"tenants/late/sections/Hero.html": "late Hero"})
    assert render(env, f"{loader.namespace('late')}/sections/Hero.html") == "late Hero"


def test_shadowing_file_invalidates_cached_default(root: Path) -> None:
    _, env = env_for(root, watch=True)
    assert render(env, "acme/sections/Hero.simple.html") == "default Hero.simple"
    write(root, {"tenants/acme/sections/Hero.simple.html": "acme Hero.simple"})
    assert render(env, "acme/sections/Hero.simple.html") == "acme Hero.simple"


def test_list_templates(root: Path) -> None:
    loader, _ = env_for(root)
    listed = loader.list_templates()
    assert (
        "_/sections/Hero.html" in listed
        and "acme/partials/badge.html" in listed
        and "solo/sections/Hero.html" in listed
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ props.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% set x = [] %}{{ x.append(1) }}",
    ],
)
def test_templates_run_sandboxed(tmp_path: Path, source: str) -> None:
    _, env = env_for(write(tmp_path, {"default/evil.html": source}))
    with pytest.raises(SecurityError):
        env.get_template("_/evil.html").render(props={})


def test_template_globals_are_one_plain_mapping_over_the_environments() -> None:
    env = TenantEnvironment()
    env.globals["site"] = "shared"
    template = env.from_string("{{ site }} {{ extra }}", globals={"extra": "own"})
    assert type(template.globals) is dict  # copied into every render's context: a dict copies in C
    assert template.render() == "shared own"
    assert env.from_string("{{ site }}", globals={"site": "overlaid"}).render() == "overlaid"
    assert "extra" not in env.globals
