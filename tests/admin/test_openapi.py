"""The OpenAPI document of the admin API: served without a token, and true to the routes the admin app has."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from tenantedge.admin.openapi import SCHEMAS, openapi_document
from tenantedge.admin.operations import OPERATIONS, Operation
from tenantedge.content.posts import SLUG
from tenantedge.http.edge import EdgeApp
from tenantedge.tenants import _LANG, _PAGE_PATH, TENANT_ID, DocumentLimits
from tests.admin.conftest import ADMIN_HOST, AdminClient, problem

pytestmark = pytest.mark.anyio

METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
DOCUMENT = openapi_document("test")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def admin_routes(app: EdgeApp) -> set[tuple[str, str]]:
    admin = app._admin
    assert isinstance(admin, Starlette)
    found: set[tuple[str, str]] = set()
    for route in admin.routes:
        if isinstance(route, WebSocketRoute):
            assert route.path == "/ws"
            continue
        assert isinstance(route, Route), route
        assert route.methods is not None
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # starlette's {page:path} is the document's {page}
        found |= {(method, path) for method in route.methods if method != "HEAD"}  # starlette adds HEAD to GET
    return found


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref}: no {part!r}"
        node = node[part]
    return node


@pytest.fixture
async def served(client: AdminClient) -> dict[str, Any]:
    response = await client.get("/api/openapi.json", token=None)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"authorization": "Bearer not-a-real-token-0000"}, id="wrong-token"),
    ],
)
async def test_the_document_is_served_without_a_token(client: AdminClient, headers: dict[str, str]) -> None:
    response = await client.http.get("/api/openapi.json", headers={"host": ADMIN_HOST, **headers})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "tenantedge admin API"
    assert document["info"]["version"] == version("tenantedge")
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearer": []}]


async def test_the_served_document_is_the_one_built_from_the_table(served: dict[str, Any]) -> None:
    assert served == openapi_document(version("tenantedge"))
    assert {key: value for key, value in served.items() if key != "info"} == {
        key: value for key, value in DOCUMENT.items() if key != "info"
    }


async def test_the_document_lists_exactly_the_admin_routes(app: EdgeApp, served: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in operations(served)}
    routed = admin_routes(app)
    assert documented == routed, {"undocumented": routed - documented, "unrouted": documented - routed}
    assert len(documented) == len(OPERATIONS)


async def test_every_ref_resolves_to_a_schema(served: dict[str, Any]) -> None:
    found = refs(served)
    assert found, "the document uses no $ref at all"
    schemas = served["components"]["schemas"]
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
        assert isinstance(resolve(served, ref), dict)


async def test_every_schema_is_used(served: dict[str, Any]) -> None:
    used = {ref.removeprefix("#/components/schemas/") for ref in refs(served)}
    assert set(served["components"]["schemas"]) == used


async def test_operation_ids_are_unique(served: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(served)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("method", "path", "operation"), [pytest.param(*op, id=op[2]["operationId"]) for op in operations(DOCUMENT)]
)
def test_every_operation_lists_its_path_parameters(method: str, path: str, operation: dict[str, Any]) -> None:
    in_path = set(re.findall(r"\{(\w+)\}", path))
    declared = [parameter for parameter in operation["parameters"] if parameter["in"] == "path"]
    assert {parameter["name"] for parameter in declared} == in_path
    assert all(parameter["required"] is True for parameter in declared)
    names = [(parameter["name"], parameter["in"]) for parameter in operation["parameters"]]
    assert len(names) == len(set(names)), "a parameter is listed twice"


@pytest.mark.parametrize("op", [pytest.param(op, id=op.handler) for op in OPERATIONS])
def test_every_operation_says_what_it_needs(op: Operation) -> None:
    operation = DOCUMENT["paths"][op.path][op.method.lower()]
    headers = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "header"}
    assert ("If-Match" in headers) is op.if_match
    if op.if_match:
        for status in ("409", "428"):
            assert status in operation["responses"], f"{op.handler}: an If-Match write can answer {status}"
    if op.uploads:
        assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "application/octet-stream"}
        assert {"413", "415"} <= set(operation["responses"])
    elif op.body is None:
        assert "requestBody" not in operation
    else:
        media = set(operation["requestBody"]["content"])
        assert "application/json" in media
        assert ("application/merge-patch+json" in media) is (op.method == "PATCH")
        assert "415" in operation["responses"]
    assert str(op.status) in operation["responses"]
    if not op.public:
        assert "401" in operation["responses"]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.handler) for op in OPERATIONS])
async def test_the_documented_security_is_what_the_api_does(client: AdminClient, op: Operation) -> None:
    operation = DOCUMENT["paths"][op.path][op.method.lower()]
    public = operation.get("security") == []
    url = op.path.replace("{tenant}", "basicsite").replace("{page}", "").replace("{version}", "1")
    url = url.replace("{asset}", "app.js").replace("{slug}", "a-post").replace("{asset_id}", "0" * 64 + ".png")
    response = await client.api(op.method, url, {"version": 1}, token=None, if_match='"1"')
    if public:
        # Served without a token (sign-in itself may refuse the one it is given, but never asks for a header).
        assert "www-authenticate" not in response.headers, f"{op.method} {url}: {response.status_code}"
        assert response.status_code in (200, 401) if op.handler == "sign_in" else response.status_code == 200
    else:
        assert response.status_code == 401, f"{op.method} {url}: {response.status_code}"
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        pytest.param("GET", "/api/nothing-here", 404, None, id="unknown-path"),
        pytest.param("POST", "/api/tenants/basicsite/publish/%0Ar", 404, None, id="path-with-a-newline"),
        pytest.param("PATCH", "/api/session", 405, {"DELETE", "GET", "HEAD", "POST"}, id="session"),
        pytest.param("OPTIONS", "/api/tenants/basicsite/drafts/x", 405, {"DELETE", "GET", "HEAD", "PUT"}, id="draft"),
        pytest.param("PUT", "/api/tenants/basicsite/posts", 405, {"GET", "HEAD", "POST"}, id="posts"),
    ],
)
async def test_routing_misses_are_problems_and_a_405_allows_every_method_of_the_path(
    client: AdminClient, method: str, path: str, status: int, allow: set[str] | None
) -> None:
    response = await client.api(method, path)
    body = problem(response, status)
    assert path.split("%")[0] in body["detail"]
    if allow is not None:
        assert {method.strip() for method in response.headers["allow"].split(",")} == allow


async def test_the_session_of_a_signed_out_dashboard_fits_its_schema(client: AdminClient) -> None:
    body = (await client.get("/api/session", token=None)).json()
    assert body == {"name": None, "tenants": None, "csrf": None}
    for key, schema in DOCUMENT["components"]["schemas"]["Session"]["properties"].items():
        assert "null" in schema["type"], key


def schema_of(path: str, name: str) -> dict[str, Any]:
    """The schema of a parameter of the GET at `path`."""
    found: dict[str, Any] = next(p for p in DOCUMENT["paths"][path]["get"]["parameters"] if p["name"] == name)
    return dict(found["schema"])


@pytest.mark.parametrize(
    ("documented", "server"),
    [
        pytest.param(DOCUMENT["components"]["schemas"]["Tenant"]["properties"]["lang"]["pattern"], _LANG, id="lang"),
        pytest.param(
            DOCUMENT["components"]["schemas"]["Tenant"]["properties"]["pages"]["propertyNames"]["pattern"],
            _PAGE_PATH,
            id="page-path",
        ),
        pytest.param(
            "^/" + schema_of("/api/tenants/{tenant}/pages/{page}", "page")["pattern"][1:],
            _PAGE_PATH,
            id="page-parameter",
        ),
        pytest.param(schema_of("/api/tenants/{tenant}", "tenant")["pattern"], TENANT_ID, id="tenant"),
        pytest.param(schema_of("/api/tenants/{tenant}/posts/{slug}", "slug")["pattern"], SLUG, id="slug"),
    ],
)
def test_documented_patterns_are_the_servers(documented: str, server: re.Pattern[str]) -> None:
    assert documented == "^" + server.pattern.removesuffix(r"\Z") + "$"


def test_a_title_is_blank_for_the_schema_exactly_when_it_is_for_the_server() -> None:
    pattern = re.compile(DOCUMENT["components"]["schemas"]["Post"]["properties"]["title"]["pattern"])
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        assert bool(pattern.search(character)) == (bool(character.strip()) and character != "\x00"), hex(code)


def test_the_document_states_the_configured_document_limits() -> None:
    schemas = openapi_document("test", DocumentLimits(max_sections=7, max_custom_css=512))["components"]["schemas"]
    assert schemas["SectionList"]["maxItems"] == 7 and schemas["CustomCss"]["maxLength"] == 512
    assert DOCUMENT["components"]["schemas"]["SectionList"]["maxItems"] == DocumentLimits().max_sections


def test_the_sized_schemas_take_no_name_of_another() -> None:
    sized = set(openapi_document("test")["components"]["schemas"]) - set(SCHEMAS)
    assert sized == {"SectionList", "CustomCss"}
