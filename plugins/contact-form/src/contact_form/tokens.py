"""The form's token: when the form was rendered and for which tenant, signed, so a POST needs no cookie or session.

`<issued>.<signature>`: issued in whole Unix seconds, the signature an HMAC-SHA256 over the tenant and that time.
A token is good from MIN_AGE seconds after it was issued (a person takes longer to fill the form) until the
configured maximum age (pages are cached until their tenant changes, so the rendered token may be weeks old).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re

MIN_AGE = 2
# Clocks of the machines that render and that check may differ a little.
_SKEW = 60
_TOKEN = re.compile(r"([0-9]{1,12})\.([0-9a-f]{32})\Z")


class TokenProblem(enum.Enum):
    MALFORMED = "malformed"
    FORGED = "forged"
    TOO_FAST = "too fast"
    EXPIRED = "expired"


def issue(secret: bytes, tenant_id: str, now: float) -> str:
    issued = int(now)
    return f"{issued}.{_signature(secret, tenant_id, issued)}"


def check(secret: bytes, tenant_id: str, token: str, now: float, max_age: int) -> TokenProblem | None:
    """None when the token is good for this tenant now; else what is wrong with it."""
    found = _TOKEN.match(token)
    if found is None:
        return TokenProblem.MALFORMED
    issued = int(found.group(1))
    if not hmac.compare_digest(found.group(2), _signature(secret, tenant_id, issued)):
        return TokenProblem.FORGED
    age = now - issued
    if age < -_SKEW:
        return TokenProblem.FORGED
    if age < MIN_AGE:
        return TokenProblem.TOO_FAST
    if age > max_age:
        return TokenProblem.EXPIRED
    return None


def _signature(secret: bytes, tenant_id: str, issued: int) -> str:
    return hmac.new(secret, f"contact-form:{tenant_id}:{issued}".encode(), hashlib.sha256).hexdigest()[:32]
