"""Who may use the admin: bearer tokens, each allowed every tenant or a set of them.

Tokens come from `TENANTEDGE_ADMIN_TOKEN` (every tenant) and `TENANTEDGE_ADMIN_TOKENS_FILE`, a JSON file:
`{"tokens": [{"name": "acme-editor", "token": "…", "tenants": ["acme"]}]}` (or `"sha256": "<hex>"` instead
of the token itself, so the file need not hold secrets). Only SHA-256 digests are kept in memory, and a
presented token is compared with every one of them in constant time. Wrong tokens are counted, and
refused for a while once there are too many, by tenantedge.admin.limiter.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tenantedge.errors import ConfigError
from tenantedge.tenants import TENANT_ID

_HEX = re.compile(r"[0-9a-f]{64}\Z")
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token may do: every tenant (`tenants` is None) or only these."""

    name: str
    tenants: frozenset[str] | None = None

    def allows(self, tenant_id: str) -> bool:
        return self.tenants is None or tenant_id in self.tenants


class TokenRing:
    def __init__(self, entries: list[tuple[bytes, Grant]]) -> None:
        self._entries = entries

    @classmethod
    def build(cls, token: str | None, tokens_file: Path | None) -> TokenRing:
        entries: list[tuple[bytes, Grant]] = []
        if token:
            if len(token) < MIN_TOKEN_LENGTH:
                raise ConfigError(f"TENANTEDGE_ADMIN_TOKEN: expected at least {MIN_TOKEN_LENGTH} characters")
            entries.append((_digest(token), Grant("admin")))
        if tokens_file is not None:
            entries += _read_tokens_file(tokens_file)
        return cls(entries)

    def check(self, presented: str | None) -> Grant | None:
        """The grant of a presented token, or None; the time taken does not depend on which entry matched."""
        if not presented:
            return None
        digest = _digest(presented)
        found: Grant | None = None
        for expected, grant in self._entries:
            if hmac.compare_digest(digest, expected) and found is None:
                found = grant
        return found


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _read_tokens_file(path: Path) -> list[tuple[bytes, Grant]]:
    try:
        raw: Any = orjson.loads(path.read_bytes())
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the admin tokens file: {e.strerror}") from e
    except orjson.JSONDecodeError as e:
        raise ConfigError(f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("tokens"), list):
        raise ConfigError(f'{path}: expected {{"tokens": [{{"name": …, "token": …, "tenants": […]}}]}}')
    entries = []
    for index, item in enumerate(raw["tokens"]):
        where = f"{path}: tokens[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{where}: expected an object with a 'name'")
        token, hashed, tenants = item.get("token"), item.get("sha256"), item.get("tenants")
        if isinstance(token, str) and len(token) >= MIN_TOKEN_LENGTH:
            digest = _digest(token)
        elif isinstance(hashed, str) and _HEX.match(hashed):
            digest = bytes.fromhex(hashed)
        else:
            raise ConfigError(
                f"{where}: expected 'token' (at least {MIN_TOKEN_LENGTH} characters) or 'sha256' (64 hex digits)"
            )
        if tenants is not None and (
            not isinstance(tenants, list) or not all(isinstance(t, str) and TENANT_ID.match(t) for t in tenants)
        ):
            raise ConfigError(f"{where}.tenants: expected a list of tenant ids (or leave it out for every tenant)")
        entries.append((digest, Grant(item["name"], None if tenants is None else frozenset(tenants))))
    return entries
