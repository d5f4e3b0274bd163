"""The contact form's small pieces on their own: tokens, where a form came from, hostile field values."""

from __future__ import annotations

import pytest
from contact_form import tokens
from contact_form.submission import Invalid, hostname, read, same_site

SECRET = b"k" * 32
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("token", "now", "expected"),
    [
        (tokens.issue(SECRET, "acme", NOW), NOW + 2, None),
        (tokens.issue(SECRET, "acme", NOW), NOW + 1.9, tokens.TokenProblem.TOO_FAST),
        (tokens.issue(SECRET, "acme", NOW), NOW + 30 * 86_400, None),
        (tokens.issue(SECRET, "acme", NOW), NOW + 30 * 86_400 + 1, tokens.TokenProblem.EXPIRED),
        (tokens.issue(SECRET, "acme", NOW + 61), NOW, tokens.TokenProblem.FORGED),
        (tokens.issue(SECRET, "other", NOW), NOW + 5, tokens.TokenProblem.FORGED),
        (tokens.issue(b"x" * 32, "acme", NOW), NOW + 5, tokens.TokenProblem.FORGED),
        (tokens.issue(SECRET, "acme", NOW).upper(), NOW + 5, tokens.TokenProblem.MALFORMED),
        ("", NOW, tokens.TokenProblem.MALFORMED),
        ("\uff11\uff18\uff10\uff10.0123456789abcdef0123456789abcdef", NOW, tokens.TokenProblem.MALFORMED),
        ("1800000000.0123456789abcdef0123456789abcdef\n", NOW, tokens.TokenProblem.MALFORMED),
    ],
    ids=[
        "at-the-minimum",
        "too-fast",
        "at-the-maximum",
        "expired",
        "from-the-future",
        "another-tenant",
        "another-key",
        "uppercased",
        "empty",
        "fullwidth-digits",
        "trailing-newline",
    ],
)
def test_tokens(token: str, now: float, expected: tokens.TokenProblem | None) -> None:
    assert tokens.check(SECRET, "acme", token, now, 30 * 86_400) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"origin": "https://acme.test"}, True),
        ({"origin": "http://ACME.test:8080"}, True),
        ({"origin": "https://acme.test."}, True),
        ({"origin": "https://acme.test.evil"}, False),
        ({"origin": "https://evil.test", "referer": "https://acme.test/"}, False),
        ({"origin": "null", "referer": "https://acme.test/contact"}, True),
        ({"referer": "javascript://acme.test/"}, False),
        ({"origin": "https://user@acme.test@evil.test"}, False),
        ({"origin": "https://[::1"}, False),
        ({}, False),
    ],
    ids=[
        "origin",
        "port-and-case",
        "trailing-dot",
        "suffix",
        "origin-wins-over-referer",
        "null-origin-referer",
        "javascript-referer",
        "userinfo",
        "malformed",
        "neither",
    ],
)
def test_same_site(headers: dict[str, str], expected: bool) -> None:
    assert same_site(headers, {"acme.test", "www.acme.test"}) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("acme.test", "acme.test"), ("ACME.test:8000", "acme.test"), ("acme.test.", "acme.test"), ("[::1]:80", "::1")],
)
def test_hostname(value: str, expected: str) -> None:
    assert hostname(value) == expected


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"name=a&email=a%40b.co&message=hi", "multipart/form-data", "form"),
        (b"name=%ff&email=a%40b.co&message=hi", FORM, "form"),
        (b"&".join([b"x=1"] * 11), FORM, "form"),
        (b"name=a&email=a%40b.co&message=%00", FORM, "message"),
        (b"name=a&email=a%40b.co&message=" + b"x" * 101, FORM, "message"),
        (b"name=a&email=a%40b.co&message=hi&website=" + b"x" * 201, FORM, "website"),
    ],
    ids=["not-a-form", "not-utf8", "too-many-fields", "control-character", "too-long", "long-honeypot"],
)
def test_hostile_forms_name_their_field(body: bytes, content_type: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        read(body, content_type, 100)
    assert refused.value.field == field


def test_a_good_form_keeps_its_line_breaks_and_sends_back_to_its_section() -> None:
    body = b"name=+Ada+&email=ada%40example.com&message=one%0D%0Atwo&page=%2Fcontact&section=s2&page=%2Fother"
    found = read(body, FORM + "; charset=utf-8", 100)
    assert (found.name, found.message, found.back) == ("Ada", "one\ntwo", "/contact#s2")


@pytest.mark.parametrize(
    ("page", "section", "back"),
    [("//evil.test", "s0", "/#s0"), ("/a/../b", "s0", "/#s0"), ("/ok", "x y", "/ok#contact")],
    ids=["protocol-relative", "dot-segments", "bad-anchor"],
)
def test_where_a_form_sends_back_stays_on_the_site(page: str, section: str, back: str) -> None:
    from urllib.parse import urlencode

    body = urlencode({"name": "a", "email": "a@b.co", "message": "hi", "page": page, "section": section}).encode()
    assert read(body, FORM, 100).back == back
