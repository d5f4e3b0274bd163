"""The plugin's server-side configuration, read from the environment (never from a tenant's settings)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger("tenantedge.plugins.contact-form")

# The environment variables read: the plugin's own, and tenantedge's admin token and Redis.
VARIABLES = {
    "key": "TENANTEDGE_CONTACT_FORM_SECRET",
    "smtp": "TENANTEDGE_CONTACT_FORM_SMTP_URL",
    "max_age": "TENANTEDGE_CONTACT_FORM_TOKEN_MAX_AGE",
    "admin": "TENANTEDGE_ADMIN_TOKEN",
    "redis": "TENANTEDGE_REDIS_URL",
    "redis_prefix": "TENANTEDGE_REDIS_PREFIX",
}
# A page is cached until its tenant changes, so the token rendered in it may be old: 30 days by default.
_DEFAULT_MAX_AGE = 30 * 86_400


@dataclass(frozen=True, slots=True)
class Config:
    # Signs form tokens and keys the hash of visitors' addresses.
    secret: bytes
    smtp_url: str | None
    redis_url: str | None
    # Before every key the plugin keeps in Redis, as tenantedge's own keys have it.
    redis_prefix: str
    token_max_age: int


def current() -> Config:
    """The configuration for the environment as it is now (read again when it changes, as in tests)."""
    environ = os.environ
    return _config(
        environ.get(VARIABLES["key"], ""),
        environ.get(VARIABLES["admin"], ""),
        environ.get(VARIABLES["smtp"], "") or None,
        environ.get(VARIABLES["redis"], "") or None,
        environ.get(VARIABLES["max_age"], ""),
        environ.get(VARIABLES["redis_prefix"], "te:"),
    )


@lru_cache(maxsize=8)
def _config(
    secret: str, admin_token: str, smtp_url: str | None, redis_url: str | None, max_age: str, prefix: str
) -> Config:
    if secret:
        key = secret.encode()
    elif admin_token:
        # Every worker and instance shares the admin token: a key derived from it is shared too, and reveals nothing.
        key = hmac.new(admin_token.encode(), b"tenantedge contact-form", hashlib.sha256).digest()
    else:
        log.warning(
            "contact-form: neither %s nor %s is set; tokens are signed with a key of this process alone, so a form"
            " rendered by one worker is asked to be confirmed by another",
            VARIABLES["key"],
            VARIABLES["admin"],
        )
        key = secrets.token_bytes(32)
    age = int(max_age) if max_age.isdigit() and 60 <= int(max_age) <= 365 * 86_400 else _DEFAULT_MAX_AGE
    return Config(key, smtp_url, redis_url, prefix, age)
