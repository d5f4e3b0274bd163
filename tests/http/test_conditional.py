from __future__ import annotations

import pytest

from tenantedge.http.conditional import accepts_gzip, none_match

ETAG = b'"abc123"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        pytest.param(b'"abc123"', True, id="exact"),
        pytest.param(b'W/"abc123"', True, id="weak-matches-strong"),
        pytest.param(b'"x", "abc123"', True, id="in-list"),
        pytest.param(b'"x",W/"abc123" ,"y"', True, id="in-list-no-spaces"),
        pytest.param(b"*", True, id="star"),
        pytest.param(b" * ", True, id="star-spaces"),
        pytest.param(b'"abc1234"', False, id="longer"),
        pytest.param(b'"ABC123"', False, id="case-matters"),
        pytest.param(b"abc123", False, id="unquoted"),
        pytest.param(b'"x", "y"', False, id="other-list"),
        pytest.param(b"", False, id="empty"),
    ],
)
def test_if_none_match(header: bytes, matches: bool) -> None:
    assert none_match(header, ETAG) is matches


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [
        pytest.param(b"gzip", True, id="gzip"),
        pytest.param(b"gzip, deflate, br, zstd", True, id="browser"),
        pytest.param(b"GZIP", True, id="case"),
        pytest.param(b"x-gzip", True, id="x-gzip"),
        pytest.param(b"br;q=1.0, gzip;q=0.8, *;q=0.1", True, id="weighted"),
        pytest.param(b"gzip;q=0", False, id="refused"),
        pytest.param(b"gzip; q=0.000", False, id="refused-spaced"),
        pytest.param(b"*", True, id="star"),
        pytest.param(b"*;q=0", False, id="star-refused"),
        pytest.param(b"gzip;q=0, *", False, id="explicit-beats-star"),
        pytest.param(b"identity", False, id="identity"),
        pytest.param(b"br", False, id="only-br"),
        pytest.param(b"", False, id="empty"),
        pytest.param(b"gzip;q=nonsense", False, id="bad-q"),
    ],
)
def test_accept_encoding(header: bytes, gzip_ok: bool) -> None:
    assert accepts_gzip(header) is gzip_ok
