"""The admin API described: the OpenAPI 3.1 document, built from the operations table."""

from __future__ import annotations

from typing import Any

from tenantedge.admin.operations import OPERATIONS, Operation, Query

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Malformed request (JSON, query parameter)",
    401: "No valid admin token",
    403: "Authenticated by the session cookie, without the matching X-CSRF-Token header",
    404: "No such tenant, page, draft or version, or not one this token may see",
    409: "The If-Match version is not the current one, or the tenant already exists",
    412: "If-Match is not a version ETag",
    413: "The body is over the size limit",
    415: "The body is not JSON",
    422: "The document does not validate (a domain another tenant holds included); `issues` gives each JSON path",
    428: "If-Match is required",
    429: "Too many failed attempts from this address: wait for Retry-After",
    503: "A backend (the content database, S3, Redis) cannot answer, or is not configured",
}

_ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
SCHEMAS: dict[str, Any] = {
    "Object": _ANY_OBJECT,
    "Html": {"type": "string"},
    "Problem": {
        "type": "object",
        "required": ["status", "title", "detail"],
        "properties": {
            "status": {"type": "integer"},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "issues": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "Tenant": {
        "type": "object",
        "description": "A tenant document as in tenants.json (see DESIGN.md); `version` is set by the server.",
        "properties": {
            "name": {"type": "string"},
            "domains": {"type": "array", "items": {"type": "string"}},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "theme": _ANY_OBJECT,
            "features": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "pages": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/PageValue"}},
            "version": {"type": "integer", "readOnly": True},
        },
        "additionalProperties": True,
    },
    "NewTenant": {
        "allOf": [
            {"$ref": "#/components/schemas/Tenant"},
            {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        ]
    },
    "PageValue": {
        "description": "A list of sections, or {title, description, sections}.",
        "oneOf": [{"type": "array", "items": _ANY_OBJECT}, _ANY_OBJECT],
    },
    "Page": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "page": {"$ref": "#/components/schemas/PageValue"}},
    },
    "Draft": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "base": {"type": "integer"},
            "saved_at": {"type": "string"},
            "by": {"type": "string"},
            "page": {"$ref": "#/components/schemas/PageValue"},
        },
    },
    "Version": {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "saved_at": {"type": "string"},
            "by": {"type": "string"},
            "action": {"type": "string"},
            "document": {"$ref": "#/components/schemas/Tenant"},
        },
    },
    "Rollback": {"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}}},
    "TenantList": {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "domains": {"type": "array", "items": {"type": "string"}},
                        "version": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Post": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,119}$"},
            "title": {"type": "string", "maxLength": 200},
            "excerpt": {"type": "string", "maxLength": 500},
            "body": {"type": "string", "description": "Markdown, or HTML (cleaned to an allowlist when shown)"},
            "body_format": {"enum": ["markdown", "html"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "status": {"enum": ["draft", "published"]},
            "author": {"type": "string"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
            "version": {"type": "integer", "readOnly": True},
        },
    },
    "PostList": {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Post"}},
        },
    },
    "SignIn": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
    "Session": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tenants": {"type": ["array", "null"], "items": {"type": "string"}},
            "csrf": {"type": ["string", "null"]},
        },
    },
    "Sections": {"type": "object", "properties": {"sections": {"type": "array", "items": _ANY_OBJECT}}},
}


def openapi_document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the admin API, built from OPERATIONS."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tenantedge admin API",
            "version": version,
            "description": (
                "Served only on the admin host (TENANTEDGE_ADMIN_HOST). Writes need If-Match with the version "
                "ETag of a GET. Events stream on the WebSocket /ws of the same host."
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _operation(op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("tenant", "page", "version", "slug", "asset")
        if "{" + name + "}" in op.path
    ]
    parameters += [_query(query) for query in op.query]
    if op.if_match:
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": True,
                "description": 'The version being changed, as its ETag ("7"), or *',
                "schema": {"type": "string"},
            }
        )
    success: dict[str, Any] = {"description": _REASONS[op.status]}
    if op.returns is not None:
        success["content"] = {op.media: {"schema": {"$ref": f"#/components/schemas/{op.returns}"}}}
    responses: dict[str, Any] = {str(op.status): success}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for status in op.errors:
        responses[str(status)] = {"description": _REASONS[status], "content": problem}
    operation: dict[str, Any] = {
        "operationId": op.handler,
        "summary": op.summary,
        "tags": list(op.tags),
        "parameters": parameters,
        "responses": responses,
    }
    if op.public:
        operation["security"] = []
    if op.body is not None:
        schema = {"$ref": f"#/components/schemas/{op.body}"}
        types = ("application/json", "application/merge-patch+json") if op.method == "PATCH" else ("application/json",)
        operation["requestBody"] = {"required": True, "content": {media: {"schema": schema} for media in types}}
    return operation


def _query(query: Query) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if query.bounds is not None:
        schema = {"type": "integer", "minimum": query.bounds[0], "maximum": query.bounds[1]}
        if query.default is not None:
            schema["default"] = query.default
    required = query.bounds is not None and query.default is None
    return {"name": query.name, "in": "query", "required": required, "description": query.description, "schema": schema}
