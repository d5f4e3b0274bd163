"""bounded_integer: ASCII digits within bounds, and nothing else that `str.isdigit()` or `int()` would take."""

from __future__ import annotations

import pytest

from tenantedge.integers import bounded_integer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("0", 0, id="low"),
        pytest.param("7", 7, id="plain"),
        pytest.param("500", 500, id="high"),
        pytest.param("007", 7, id="leading-zeros"),
        pytest.param("501", None, id="over"),
        pytest.param("²", None, id="superscript-two"),
        pytest.param("١٢", None, id="arabic-indic"),
        pytest.param("\uff17", None, id="fullwidth"),
        pytest.param("\U0001d7d5", None, id="mathematical-bold"),
        pytest.param("-1", None, id="negative"),
        pytest.param("+7", None, id="plus-sign"),
        pytest.param(" 7", None, id="space"),
        pytest.param("7\n", None, id="newline"),
        pytest.param("1_0", None, id="underscore"),
        pytest.param("1.5", None, id="fraction"),
        pytest.param("1e2", None, id="exponent"),
        pytest.param("0x1f", None, id="hex"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
        pytest.param("9" * 5000, None, id="five-thousand-digits"),
        pytest.param("0" * 4, None, id="longer-than-the-bound"),
    ],
)
def test_only_ascii_digits_within_bounds(raw: str | None, expected: int | None) -> None:
    assert bounded_integer(raw, 0, 500) == expected


def test_the_low_bound_holds() -> None:
    assert bounded_integer("0", 1, 9) is None
    assert bounded_integer("1", 1, 9) == 1
