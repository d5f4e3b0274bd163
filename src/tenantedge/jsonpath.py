"""JSON paths for error messages: `tenants.codersinflow.pages["/"][1].type`.

A path is kept as a tuple of keys and indexes while validating, and only formatted when an error needs it:
validation walks every node of 10,000 tenants, errors are rare.
"""

from __future__ import annotations

import re

import orjson

JsonPath = tuple[str | int, ...]
ROOT: JsonPath = ()
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


def child(parent: JsonPath, key: str) -> JsonPath:
    """The path of `key` inside the object at `parent`."""
    return (*parent, key)


def item(parent: JsonPath, index: int) -> JsonPath:
    """The path of element `index` of the array at `parent`."""
    return (*parent, index)


def format_path(path: JsonPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{orjson.dumps(part).decode()}]"
    return out
