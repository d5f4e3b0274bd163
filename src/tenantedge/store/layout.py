"""Where documents live in each tier, and the domain-index document format.

| tier  | tenant                     | domain (exact, alias or `*.suffix`) |
|-------|----------------------------|-------------------------------------|
| Redis | `{prefix}tenant:{id}`      | `{prefix}domain:{host}`             |
| S3    | `{prefix}tenants/{id}.json`| `{prefix}domains/{host}.json`       |

The origin also keeps `history/{id}/{version}.json` (every published version) and `drafts/{id}/{page}.json`.

Only JSON is ever stored: a tenant document is the tenant's object as in tenants.json (with its `version`),
a domain document is `{"tenant": id, "rule": "exact"|"alias"|"wildcard", "canonical": domain, "version": n}`.
"""

from __future__ import annotations

from typing import Any

import orjson

from tenantedge.errors import BackendError
from tenantedge.hosts import MATCH_ALIAS, MATCH_EXACT, MATCH_WILDCARD, HostMatch

TENANT, DOMAIN = "tenant", "domain"
# Kept in the origin only: every published version, and unpublished drafts of pages.
HISTORY, DRAFT = "history", "draft"
DocKey = tuple[str, str]  # (kind, tenant id | host pattern | "{id}/{version}" | "{id}/{page}")
FOLDERS = {TENANT: "tenants", DOMAIN: "domains", HISTORY: "history", DRAFT: "drafts"}
HOME_DRAFT = "@"  # the draft key of the home page: '@' is never part of a page path
_RULES = (MATCH_EXACT, MATCH_ALIAS, MATCH_WILDCARD)


def draft_name(tenant_id: str, path: str) -> str:
    """The key of a page's draft: `{id}/{page path without its slash}`, the home page's `{id}/@`."""
    return f"{tenant_id}/{HOME_DRAFT if path == '/' else path[1:]}"


def draft_path(name: str) -> str:
    """The page path of a draft key's part after `{id}/`."""
    return "/" if name == HOME_DRAFT else "/" + name


def redis_key(prefix: str, key: DocKey) -> str:
    return f"{prefix}{key[0]}:{key[1]}"


def s3_key(prefix: str, key: DocKey) -> str:
    return f"{prefix}{FOLDERS[key[0]]}/{key[1]}.json"


def domain_candidates(host: str) -> list[str]:
    """The domain documents that could route `host`, strongest first: the host itself, then `*.suffix` longest first."""
    labels = host.split(".")
    return [host] + ["*." + ".".join(labels[index:]) for index in range(1, len(labels))]


def encode_domain(match: HostMatch, version: int) -> bytes:
    return orjson.dumps(
        {"tenant": match.tenant_id, "rule": match.rule, "canonical": match.canonical, "version": version}
    )


def decode_domain(pattern: str, data: bytes, where: str) -> HostMatch:
    """Read a domain document; BackendError (a bad document is a backend fault) naming where it was."""
    try:
        raw: Any = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise BackendError(f"{where}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("tenant"), str)
        or raw.get("rule") not in _RULES
        or not isinstance(raw.get("canonical"), str)
    ):
        raise BackendError(f"{where}: expected {{'tenant': id, 'rule': one of {_RULES}, 'canonical': domain}}")
    return HostMatch(raw["tenant"], raw["rule"], pattern, raw["canonical"])
