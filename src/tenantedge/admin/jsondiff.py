"""JSON documents compared and patched: RFC 7396 merge patches in, RFC 6902-style change lists out."""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON merge patch (RFC 7396): objects merge key by key, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def pointer(parts: tuple[str | int, ...]) -> str:
    """A JSON Pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def diff(old: Any, new: Any, path: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """The changes from `old` to `new`: `add`, `remove` and `replace` operations with JSON Pointer paths."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[dict[str, Any]] = []
        for key in old:
            if key not in new:
                changes.append({"op": "remove", "path": pointer((*path, key)), "old": old[key]})
            else:
                changes += diff(old[key], new[key], (*path, key))
        changes += [{"op": "add", "path": pointer((*path, key)), "value": new[key]} for key in new if key not in old]
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        pairs = enumerate(zip(old, new, strict=True))
        return [change for index, (a, b) in pairs for change in diff(a, b, (*path, index))]
    if old == new and type(old) is type(new):
        return []
    return [{"op": "replace", "path": pointer(path), "old": old, "value": new}]
