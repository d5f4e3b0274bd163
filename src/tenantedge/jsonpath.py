"""JSON paths for error messages: `tenants.codersinflow.pages["/"][1].type`."""

from __future__ import annotations

import re

import orjson

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


def child(parent: str, key: str) -> str:
    """The path of `key` inside the object at `parent`."""
    if _IDENTIFIER.match(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{orjson.dumps(key).decode()}]"


def item(parent: str, index: int) -> str:
    """The path of element `index` of the array at `parent`."""
    return f"{parent}[{index}]"
