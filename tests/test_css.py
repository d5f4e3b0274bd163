from __future__ import annotations

import pytest

from tenantedge.css import css_problems, escape_css

REJECTED = [
    pytest.param("@import url(//evil.example/x.css);", id="import"),
    pytest.param("@IMPORT 'x.css';", id="import-upper"),
    pytest.param("@\\69mport 'x.css';", id="import-hex-escape"),
    pytest.param("@im\\70 ort 'x.css';", id="import-escape-space"),
    pytest.param("@i\\mport 'x.css';", id="import-char-escape"),
    pytest.param("a { width: expression(alert(1)) }", id="expression"),
    pytest.param("a { width: expression /**/ (alert(1)) }", id="expression-comment"),
    pytest.param("a { width: e\\78pression(alert(1)) }", id="expression-escaped"),
    pytest.param("a { background: url(javascript:alert(1)) }", id="javascript-url"),
    pytest.param("a { background: url('jav\\61script:alert(1)') }", id="javascript-escaped"),
    pytest.param('a { background: url("java\nscript:alert(1)") }', id="javascript-newline"),
    pytest.param("a { -moz-binding: url(x.xml#xss) }", id="moz-binding"),
    pytest.param("a { behavior: url(x.htc) }", id="behavior"),
    pytest.param("a { background: url(data:text/html;base64,PHNjcmlwdD4=) }", id="data-html"),
    pytest.param("a { color: red }\x00", id="nul"),
]


@pytest.mark.parametrize("css", REJECTED)
def test_dangerous_css_is_rejected(css: str) -> None:
    assert css_problems(css)


@pytest.mark.parametrize(
    "css",
    [
        ".hero h1 { letter-spacing: -0.02em }",
        "a::before { content: '\\201C' }",
        "@media (max-width: 40rem) { .x { display: none } }",
        ".bg { background: url(/_edge/assets/hero.svg) no-repeat }",
        "/* comment */ p > a { color: #fff }",
    ],
)
def test_ordinary_css_is_accepted(css: str) -> None:
    assert css_problems(css) == []


# Hostile text that must never be able to end a <style> element or open a tag once escaped.
BREAKOUTS = [
    "</style><script>alert(1)</script>",
    "</STYLE ><img src=x onerror=alert(1)>",
    "</style\t><svg onload=alert(1)>",
    "<!--</style>-->",
    "a{}</sTyLe/><script>x</script>",
    'p::after { content: "</style><script>alert(1)</script>" }',
]


@pytest.mark.parametrize("css", BREAKOUTS)
def test_escape_leaves_no_angle_bracket(css: str) -> None:
    escaped = escape_css(css)
    assert "<" not in escaped
    assert "</style" not in escaped.lower()
