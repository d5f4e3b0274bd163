"""Whole numbers read from text that a client or an operator sent: ASCII digits only, within stated bounds.

`str.isdigit()` is true for '²' and '١٢', and `int()` also takes ' 7 ', '+7', '1_000' and '١٢'; a parser that
trusts either answers a 500 or accepts what it never documented. Every integer tenantedge reads from a request,
a header, a WebSocket message, a stored name or the environment goes through `bounded_integer`.
"""

from __future__ import annotations


def bounded_integer(raw: str | None, low: int, high: int) -> int | None:
    """The integer `raw` spells in ASCII digits (no sign, space or separator) if it lies in [low, high]; else None."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
        return None  # the length check also keeps int() away from a megabyte of digits
    value = int(raw)
    return value if low <= value <= high else None


def describe_range(low: int, high: int) -> str:
    """How an error message states the integers it expected."""
    return f"an integer from {low} to {high} (ASCII digits)"
