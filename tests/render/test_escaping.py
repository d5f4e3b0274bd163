"""Output escaping: the same text as markupsafe's escape, for every kind of value a template can output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import DictLoader, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from tenantedge.render.escaping import OutputCodeGenerator, escape_output
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.loader import FallbackLoader, TenantEnvironment


class _Html:
    def __html__(self) -> str:
        return "<b>own html</b>"


class _Text(str):
    """A str subclass that is not Markup: escaped like any string."""


HOSTILE: list[Any] = [
    "",
    "plain",
    "<script>alert('x') & \"y\"</script>",
    "caf\u00e9 \U0001f9e9 <>",
    Markup("<b>safe</b>"),
    Markup(""),
    _Text("<i>sub</i>"),
    _Html(),
    42,
    3.5,
    None,
    True,
    ["<a>"],
    Undefined(name="missing"),
]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_escape_output_writes_what_markupsafe_writes(value: Any) -> None:
    assert escape_output(value) == str(escape(value))


def test_markup_is_passed_through_without_a_copy() -> None:
    safe = Markup("<p>" + "x" * 5000 + "</p>")  # noqa: S704 - a constant
    assert escape_output(safe) is safe


SOURCES = {
    "page.html": (
        "<p title='{{ value }}'>{{ value }}</p>{{ value ~ '<x>' }}{{ value|upper }}"
        "{% set kept %}<i>{{ value }}</i>{% endset %}{{ kept }}"
        "{% macro card(x) %}<div>{{ x }}{{ caller() }}</div>{% endmacro %}"
        "{% call card(value) %}<em>{{ value }}</em>{% endcall %}"
        "{% filter upper %}{{ value }}{% endfilter %}"
        "{% autoescape false %}{{ value }}{% endautoescape %}"
        "{% autoescape flag %}{{ value }}{% endautoescape %}"
        "{% for item in [value, value] %}{{ loop.index }}{{ item }}{% endfor %}"
        "{{ '<const>' }}{{ 1 + 2 }}"
    ),
}


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("flag", [True, False])
def test_templates_render_as_with_jinjas_own_code(value: Any, flag: bool) -> None:
    stock = ImmutableSandboxedEnvironment(loader=DictLoader(SOURCES), autoescape=True)
    ours = ImmutableSandboxedEnvironment(loader=DictLoader(SOURCES), autoescape=True)
    ours.code_generator_class = OutputCodeGenerator
    expected = stock.get_template("page.html").render(value=value, flag=flag)
    assert ours.get_template("page.html").render(value=value, flag=flag) == expected


def test_the_tenant_environment_compiles_output_through_escape_output(tmp_path: Path) -> None:
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "t.html").write_text("{{ value }}")
    env = TenantEnvironment(loader=FallbackLoader(TemplateFolders((tmp_path,))), autoescape=True)
    source = env.loader.get_source(env, "_/t.html")[0]  # type: ignore[union-attr]
    assert "escape_output(" in str(env.compile(source, "_/t.html", raw=True))
    assert env.get_template("_/t.html").render(value="<x>") == "&lt;x&gt;"


def test_an_environment_with_finalize_keeps_jinjas_escape() -> None:
    env = ImmutableSandboxedEnvironment(loader=DictLoader(SOURCES), autoescape=True, finalize=lambda v: v or "-")
    env.code_generator_class = OutputCodeGenerator
    code = str(env.compile("{{ value }}", raw=True))
    assert "escape_output(" not in code
    assert env.from_string("{{ value }}").render(value="<a>") == "&lt;a&gt;"
