"""Surrogate keys: tags a CDN purges by, the same for a path however it is spelled."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tenantedge.http.policy import surrogate_keys


@pytest.mark.parametrize("path", ["/", "/about", "/a/b-c_d.e~f", "/caf\u00e9", "/a b", "/100%", "/x?y", "/\u2603/"])
def test_page_keys_quote_the_path_as_urllib_does(path: str) -> None:
    assert surrogate_keys("acme", path) == f"tenant:acme page:acme:{quote(path, safe='/')}"


def test_tenant_and_posts_keys() -> None:
    assert surrogate_keys("acme", None) == "tenant:acme"
    assert surrogate_keys("acme", "/blog", posts=True) == "tenant:acme page:acme:/blog posts:acme"
    assert " " not in surrogate_keys("acme", "/a b").split(" ", 2)[1]
