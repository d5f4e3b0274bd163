"""Changes between two tenant documents in plain language, grouped by page and section, for people to read.

Both documents are normalised first, so what one leaves out and what the other spells as its default (no
`features` and `{}`, a preset's name and `{"preset": ...}`) read as no change. Sections of a page are matched by
their `id` when they have one, else by content, then by type, so a moved section reads as one move and not as
every later section changed.
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson

from tenantedge.sections import DEFAULT_VARIANT
from tenantedge.tenants import DEFAULT_FOOTER, DEFAULT_HEADER, DEFAULT_PAGES, PRESETS

SHOWN = 60  # characters of a text value shown before an ellipsis
MAX_ITEMS = 500  # longer lists are compared by their length only (matching them is quadratic)
MAX_DEPTH = 64  # documents nested deeper are not described (no editor makes them; recursion must stay bounded)
_MISSING: Any = object()
_SITE = ("name", "description", "lang", "domains", "aliases")  # in the order the settings form shows them
_LABELS = {"custom_css": "custom CSS", "href": "link", "alt": "alt text", "lang": "language"}
_SINGULAR = {"people": "person", "children": "child"}


def normalised(document: Any) -> dict[str, Any]:
    """The document with every default spelled out one way, so that equal sites compare equal."""
    out = {key: value for key, value in document.items() if key != "version"} if isinstance(document, dict) else {}
    for key in ("name", "description", "lang"):
        if out.get(key) in (None, ""):
            out.pop(key, None)
    for key in ("domains", "aliases"):
        out[key] = out.get(key) or []
    out["theme"] = _theme(out.get("theme"))
    features = out.get("features") or {}
    out["features"] = {k: v for k, v in features.items() if v is not False} if isinstance(features, dict) else features
    components = out.get("components") or []
    out["components"] = sorted(components) if all(isinstance(c, str) for c in _items(components)) else components
    layout = out.get("layout") or {}
    if isinstance(layout, dict):
        header, footer = layout.get("header", DEFAULT_HEADER), layout.get("footer", DEFAULT_FOOTER)
        out["layout"] = {**layout, "header": _sections(header), "footer": _sections(footer)}
    pages = out.get("pages", DEFAULT_PAGES)
    out["pages"] = {path: _page(value) for path, value in pages.items()} if isinstance(pages, dict) else pages
    if out.get("published", True) is True:
        out.pop("published", None)
    return out


def describe(old: Any, new: Any) -> list[dict[str, Any]]:
    """What changed from `old` to `new`: `[{"group": "Page /services", "changes": ["Hero: title changed ..."]}]`."""
    if _too_deep(old) or _too_deep(new):
        return [{"group": "Site", "changes": [f"The documents differ (nested deeper than {MAX_DEPTH} levels)"]}]
    a, b = normalised(old), normalised(new)
    groups: list[tuple[str, list[str]]] = [
        ("Site", _site(a, b)),
        ("Theme", _theme_changes(a.pop("theme"), b.pop("theme"))),
        ("Features", _feature_changes(a.pop("features"), b.pop("features"), a.pop("components"), b.pop("components"))),
    ]
    layout_a, layout_b = a.pop("layout", {}), b.pop("layout", {})
    if isinstance(layout_a, dict) and isinstance(layout_b, dict):
        for key in ("header", "footer"):
            groups.append((key.capitalize(), _section_changes(layout_a.pop(key, []), layout_b.pop(key, []))))
    groups.append(("Layout", _value_changes(layout_a, layout_b, "layout")))
    pages_a, pages_b = a.pop("pages"), b.pop("pages")
    if isinstance(pages_a, dict) and isinstance(pages_b, dict):
        for path in sorted(pages_a.keys() | pages_b.keys()):
            groups.append((f"Page {path}", _page_changes(pages_a.get(path, _MISSING), pages_b.get(path, _MISSING))))
    else:
        groups.append(("Pages", _value_changes(pages_a, pages_b, "pages")))
    groups.append(("Site", _value_changes(a, b, "")))  # whatever is left: keys no editor shows
    merged: dict[str, list[str]] = {}
    for group, changes in groups:
        if changes:
            merged.setdefault(group, []).extend(_sentence(change) for change in changes)
    return [{"group": group, "changes": changes} for group, changes in merged.items()]


# -- normalising -------------------------------------------------------------------------------------------


def _theme(raw: Any) -> Any:
    if raw is None:
        raw = {}
    elif isinstance(raw, str):
        raw = {"preset": raw}
    if not isinstance(raw, dict):
        return raw
    theme = {"preset": PRESETS[0], "fonts": [], "custom_css": "", **{k: v for k, v in raw.items() if v is not None}}
    colors = theme.get("colors") or {}
    theme["colors"] = {k: v for k, v in colors.items() if v} if isinstance(colors, dict) else colors
    return theme


def _page(raw: Any) -> Any:
    if isinstance(raw, list):
        raw = {"sections": raw}
    if not isinstance(raw, dict):
        return raw
    page = {key: value for key, value in raw.items() if value not in (None, "")}
    page["sections"] = _sections(page.get("sections", []))
    return page


def _sections(raw: Any) -> Any:
    if not isinstance(raw, list):
        return raw
    return [_section(section) for section in raw]


def _section(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    section = {key: value for key, value in raw.items() if key != "variant" or value not in (None, DEFAULT_VARIANT)}
    section["props"] = section.get("props") or {}
    return section


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- describing ------------------------------------------------------------------------------------------


def _site(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    changes = [
        change for key in _SITE for change in _value_changes(a.pop(key, _MISSING), b.pop(key, _MISSING), _of("", key))
    ]
    was, now = a.pop("published", True), b.pop("published", True)
    if isinstance(was, bool) and isinstance(now, bool) and was != now:
        changes.append("published: served on its domains" if now else "unpublished: not served until published")
    else:
        changes += _value_changes(was, now, "published")
    return changes


def _theme_changes(a: Any, b: Any) -> list[str]:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return _value_changes(a, b, "theme")
    colors_a, colors_b = a.pop("colors", {}), b.pop("colors", {})
    changes = _value_changes(a, b, "")
    if not isinstance(colors_a, dict) or not isinstance(colors_b, dict):
        return changes + _value_changes(colors_a, colors_b, "colours")
    for name in sorted(colors_a.keys() | colors_b.keys()):
        was, now = colors_a.get(name), colors_b.get(name)
        if was == now:
            continue
        if now is None:
            changes.append(f"{name} colour back to the preset's (was {_show(was)})")
        elif was is None:
            changes.append(f"{name} colour set to {_show(now)}")
        else:
            changes.append(f"{name} colour changed from {_show(was)} to {_show(now)}")
    return changes


def _feature_changes(a: Any, b: Any, components_a: Any, components_b: Any) -> list[str]:
    changes: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for name in sorted(a.keys() | b.keys()):
            was, now = a.get(name, False), b.get(name, False)
            if was == now:
                continue
            switched = isinstance(was, bool) and isinstance(now, bool)
            changes.append(
                f"{name} switched {_show(now)}" if switched else f"{name} changed from {_show(was)} to {_show(now)}"
            )
    else:
        changes += _value_changes(a, b, "features")
    return changes + _value_changes(components_a, components_b, "components")


def _page_changes(a: Any, b: Any) -> list[str]:
    if a is _MISSING or b is _MISSING:
        page = b if a is _MISSING else a
        sections = _items(page.get("sections") if isinstance(page, dict) else page)
        names = ", ".join(_type(section) for section in sections[:8]) + (", …" if len(sections) > 8 else "")
        listed = f" with {_count(len(sections), 'section')}" + (f": {names}" if names else "")
        return [f"page added{listed}" if a is _MISSING else f"page removed (it had {_count(len(sections), 'section')})"]
    if not isinstance(a, dict) or not isinstance(b, dict):
        return _value_changes(a, b, "page")
    changes = _section_changes(a.pop("sections", []), b.pop("sections", []))
    return [*_value_changes(a, b, "page"), *changes]


def _section_changes(a: Any, b: Any) -> list[str]:
    """Sections removed, added, moved and edited, each named by its type (and position, where that is ambiguous)."""
    if not isinstance(a, list) or not isinstance(b, list) or max(len(a), len(b)) > MAX_ITEMS:
        return _value_changes(a, b, "sections")
    pairs = _match(a, b)  # new index -> old index
    matched_old = set(pairs.values())
    stable = _longest_increasing([pairs[j] for j in sorted(pairs)])
    removed = [f"{_type(a[i])} removed from position {i + 1}" for i in range(len(a)) if i not in matched_old]
    changes: list[str] = []
    for j, section in enumerate(b):
        if j not in pairs:
            changes.append(f"{_type(section)} added at position {j + 1}")
            continue
        i = pairs[j]
        if i not in stable:
            changes.append(f"{_type(section)} moved from position {i + 1} to {j + 1}")
        alone = sum(_type(other) == _type(section) for other in b) == 1
        name = _type(section) if alone else f"{_type(section)} at position {j + 1}"
        changes += [f"{name}: {change}" for change in _edits(a[i], section)]
    return removed + changes


def _edits(a: Any, b: Any) -> list[str]:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return _value_changes(a, b, "section")
    a, b = {k: v for k, v in a.items() if k != "id"}, {k: v for k, v in b.items() if k != "id"}
    changes = _value_changes(a.pop("type", None), b.pop("type", None), "type")
    variant_a, variant_b = a.pop("variant", DEFAULT_VARIANT), b.pop("variant", DEFAULT_VARIANT)
    changes += _value_changes(variant_a, variant_b, "variant")
    props_a, props_b = a.pop("props", {}), b.pop("props", {})
    return changes + _value_changes(props_a, props_b, "") + _value_changes(a, b, "")


def _match(a: list[Any], b: list[Any]) -> dict[int, int]:
    """Pair each new section with an old one: the same `id`, else the same content, else the same type, in order."""
    pairs: dict[int, int] = {}
    ids = {_id(section): i for i, section in enumerate(a) if _id(section) is not None}
    for j, section in enumerate(b):
        found = ids.get(_id(section)) if _id(section) is not None else None
        if found is not None:
            pairs[j] = found
    contents = ([_key(section) for section in a], [_key(section) for section in b])
    types = ([_type(section) for section in a], [_type(section) for section in b])
    for old, new in (contents, types):
        for j in range(len(b)):
            if j in pairs:
                continue
            taken = set(pairs.values())
            found = next((i for i in range(len(a)) if i not in taken and old[i] == new[j]), None)
            if found is not None:
                pairs[j] = found
    return pairs


def _longest_increasing(values: list[int]) -> set[int]:
    """The values of a longest strictly increasing subsequence: the sections that kept their order."""
    best: list[list[int]] = []  # best[k]: the longest such subsequence ending at values[k]
    for value in values:
        longest: list[int] = []
        for chain in best:
            if chain[-1] < value and len(chain) > len(longest):
                longest = chain
        best.append([*longest, value])
    kept: list[int] = []
    for chain in best:  # of equally long ones, the last: a section dragged up reads as moved, not all it passed
        if len(chain) >= len(kept):
            kept = chain
    return set(kept)


def _value_changes(a: Any, b: Any, label: str) -> list[str]:
    """Any two JSON values, key by key and item by item; `label` names where they are ("" for the top)."""
    a, b = _MISSING if _blank(a) else a, _MISSING if _blank(b) else b  # an emptied text reads as removed
    if a is b or (type(a) is type(b) and a == b):
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            change
            for key in [*a, *(key for key in b if key not in a)]
            for change in _value_changes(a.get(key, _MISSING), b.get(key, _MISSING), _of(label, key))
        ]
    if isinstance(a, list) and isinstance(b, list):
        return _list_changes(a, b, label or "list")
    label = label or "the value"
    if a is _MISSING:
        return [f"{label} set to {_show(b)}"]
    if b is _MISSING:
        return [f"{label} removed (was {_show(a)})"]
    return [f"{label} changed from {_show(a)} to {_show(b)}"]


def _list_changes(a: list[Any], b: list[Any], label: str) -> list[str]:
    if max(len(a), len(b)) > MAX_ITEMS:
        return [f"{label} changed ({_count(len(a), 'item')} before, {len(b)} now)"]
    if all(_scalar(value) for value in (*a, *b)):
        added = [_show(value) for value in b if value not in a]
        removed = [_show(value) for value in a if value not in b]
        listed = [f"{label}: added {', '.join(added)}"] if added else []
        listed += [f"{label}: removed {', '.join(removed)}"] if removed else []
        return listed or [f"{label} reordered: {', '.join(_show(value) for value in b)}"]
    changes: list[str] = []
    matcher = difflib.SequenceMatcher(None, [_key(x) for x in a], [_key(x) for x in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        common = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(common):
            changes += _value_changes(a[i1 + k], b[j1 + k], _item(label, j1 + k))
        changes += [f"{_item(label, i)} removed" for i in range(i1 + common, i2)]
        changes += [f"{_item(label, j)} added" for j in range(j1 + common, j2)]
    return changes or [f"{label} reordered"]


# -- words -----------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as a person reads it, cut to SHOWN characters."""
    if isinstance(value, str):
        text = " ".join(value.split())
        return "“" + (text if len(text) <= SHOWN else text[: SHOWN - 1].rstrip() + "…") + "”"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None or value is _MISSING:
        return "nothing"
    if isinstance(value, list):
        return _count(len(value), "item")
    if isinstance(value, dict):
        return _count(len(value), "field")
    return str(value)


def _of(label: str, key: str) -> str:
    name = _LABELS.get(key, key.replace("_", " "))
    return f"{label}'s {name}" if label else name


def _item(label: str, index: int) -> str:
    """`items`, 2 -> `item 3`; `item 1's links`, 0 -> `item 1's link 1`."""
    head, _, word = label.rpartition(" ")
    if word in _SINGULAR:
        word = _SINGULAR[word]
    elif word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    else:
        word += " item"
    return f"{head} {word} {index + 1}".lstrip()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _type(section: Any) -> str:
    kind = section.get("type") if isinstance(section, dict) else None
    return kind if isinstance(kind, str) and kind else "Section"


def _id(section: Any) -> Any:
    found = section.get("id") if isinstance(section, dict) else None
    return found if isinstance(found, str | int) and not isinstance(found, bool) else None


def _key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _too_deep(value: Any) -> bool:
    """Whether a value nests deeper than MAX_DEPTH (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
