"""JSON merge patches (RFC 7396) and change lists with JSON Pointer paths (RFC 6901)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tenantedge.admin.jsondiff import diff, merge_patch, pointer

# RFC 7396, Appendix A: original, patch, result.
RFC7396_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(
    ("original", "patch", "result"),
    [pytest.param(*example, id=f"A{number}") for number, example in enumerate(RFC7396_EXAMPLES, start=1)],
)
def test_merge_patch_rfc7396_appendix_a(original: Any, patch: Any, result: Any) -> None:
    kept_original, kept_patch = copy.deepcopy(original), copy.deepcopy(patch)
    assert merge_patch(original, patch) == result
    assert (original, patch) == (kept_original, kept_patch), "merge_patch changed its arguments"


def test_merge_patch_rfc7396_section_3_example() -> None:
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": None}, "tags": ["example"]}
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


def test_merge_patch_does_not_share_nested_objects_it_changed() -> None:
    target: dict[str, Any] = {"theme": {"colors": {"primary": "#000"}}}
    result = merge_patch(target, {"theme": {"colors": {"accent": "#fff"}}})
    result["theme"]["colors"]["primary"] = "#111"
    assert target == {"theme": {"colors": {"primary": "#000"}}}


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        pytest.param((), "", id="root"),
        pytest.param(("name",), "/name", id="key"),
        pytest.param(("pages", "/", 0, "type"), "/pages/~1/0/type", id="home-page"),
        pytest.param(("pages", "/about/team"), "/pages/~1about~1team", id="slashes"),
        pytest.param(("m~n",), "/m~0n", id="tilde"),
        pytest.param(("~1",), "/~01", id="tilde-one-is-not-a-slash"),
        pytest.param(("a/b~c",), "/a~1b~0c", id="both"),
        pytest.param(("",), "/", id="empty-key"),
        pytest.param(("a b", "ü"), "/a b/ü", id="no-percent-encoding"),
    ],
)
def test_pointer_escapes_per_rfc6901(parts: tuple[str | int, ...], expected: str) -> None:
    assert pointer(parts) == expected


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        pytest.param({"a": 1}, {"a": 1}, [], id="equal"),
        pytest.param({"a": 1}, {"a": 2}, [{"op": "replace", "path": "/a", "old": 1, "value": 2}], id="replace"),
        pytest.param({}, {"a": [1]}, [{"op": "add", "path": "/a", "value": [1]}], id="add"),
        pytest.param({"a": {"b": 1}}, {}, [{"op": "remove", "path": "/a", "old": {"b": 1}}], id="remove"),
        pytest.param(
            {"pages": {"/": []}},
            {"pages": {"/": [], "/menu": [{"type": "Hero"}]}},
            [{"op": "add", "path": "/pages/~1menu", "value": [{"type": "Hero"}]}],
            id="add-escaped-slash",
        ),
        pytest.param(
            {"x~y": {"a/b": 1}},
            {"x~y": {"a/b": 2}},
            [{"op": "replace", "path": "/x~0y/a~1b", "old": 1, "value": 2}],
            id="replace-escaped-both",
        ),
        pytest.param(
            {"list": [1, 2, 3]},
            {"list": [1, 5, 3]},
            [{"op": "replace", "path": "/list/1", "old": 2, "value": 5}],
            id="same-length-list-by-index",
        ),
        pytest.param(
            {"list": [1, 2]},
            {"list": [1, 2, 3]},
            [{"op": "replace", "path": "/list", "old": [1, 2], "value": [1, 2, 3]}],
            id="longer-list-whole",
        ),
        pytest.param(
            {"a": 1}, {"a": 1.0}, [{"op": "replace", "path": "/a", "old": 1, "value": 1.0}], id="int-to-float"
        ),
        pytest.param(
            {"a": 1}, {"a": True}, [{"op": "replace", "path": "/a", "old": 1, "value": True}], id="int-to-boolean"
        ),
        pytest.param({"a": None}, {"a": {}}, [{"op": "replace", "path": "/a", "old": None, "value": {}}], id="null"),
        pytest.param([1], {"a": 1}, [{"op": "replace", "path": "", "old": [1], "value": {"a": 1}}], id="root"),
    ],
)
def test_diff(old: Any, new: Any, changes: list[dict[str, Any]]) -> None:
    assert diff(old, new) == changes


def test_diff_orders_removals_changes_then_additions() -> None:
    changes = diff({"a": 1, "b": 1, "c": 1}, {"b": 2, "c": 1, "d": 1})
    assert [(change["op"], change["path"]) for change in changes] == [
        ("remove", "/a"),
        ("replace", "/b"),
        ("add", "/d"),
    ]


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply(document: Any, changes: list[dict[str, Any]]) -> Any:
    """Apply a change list the way RFC 6902 would (add/remove/replace), by its JSON Pointers."""
    document = copy.deepcopy(document)
    for change in changes:
        if change["path"] == "":
            document = copy.deepcopy(change["value"])
            continue
        *parents, last = [_unescape(token) for token in change["path"].split("/")[1:]]
        node = document
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        key: Any = int(last) if isinstance(node, list) else last
        if change["op"] == "remove":
            del node[key]
        else:
            assert change["op"] in ("add", "replace"), change
            node[key] = copy.deepcopy(change["value"])
    return document


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            {"name": "A", "pages": {"/": [{"type": "Hero", "props": {"title": "x"}}], "/a/b": []}},
            {"name": "B", "pages": {"/": [{"type": "Hero", "props": {"title": "y"}}], "/c~d": [1]}},
            id="tenant-like",
        ),
        pytest.param({"~": {"/": {"~1": 1}}}, {"~": {"/": {"~1": 2, "~0": 3}}}, id="nasty-keys"),
        pytest.param({"l": [{"a": 1}, {"b": 2}]}, {"l": [{"a": 1, "z": 0}, {}]}, id="lists-of-objects"),
        pytest.param({"l": [1]}, {"l": []}, id="list-shrinks"),
        pytest.param("x", {"y": 1}, id="root-type-change"),
    ],
)
def test_a_diff_applied_to_the_old_gives_the_new(old: Any, new: Any) -> None:
    assert apply(old, diff(old, new)) == new
    assert apply(new, diff(new, old)) == old
