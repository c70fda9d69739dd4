"""A cheap structural check of a bearer JWT before any third-party decoder sees it.

firebase-admin (through google-auth) and PyJWT base64-decode and `json.loads` a token's
header and payload before checking any signature, with no limit on nesting, size or
numbers: a header of ten thousand `[` made the Firebase decoder recurse until it failed,
and every Firebase route answered 500, unauthenticated. Here a token is refused (401)
unless it is three base64url segments of bounded size whose header is a small flat JSON
object and whose payload is a JSON object within the limits of `shared.web.untrusted`.
The decoders then only ever see documents of a shape they handle.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from shared import errors
from shared.errors import Unauthenticated
from shared.web import untrusted

# Firebase ID tokens are about 1 KB (custom claims are capped at 1,000 bytes), operator
# tokens about 300 bytes; 8 KiB leaves room for any legitimate token and no more.
MAX_TOKEN_CHARS = 8192
MAX_HEADER_CHARS = 512
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]*$")
_HEADER_KEYS = frozenset({"alg", "kid", "typ", "cty"})


def _segment_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return untrusted.loads(base64.urlsafe_b64decode(padded.encode("ascii")), field="token")


def check_jwt_shape(token: str, *, signature_required: bool = True) -> dict[str, Any]:
    """The token's payload claims (unverified) if its shape is sane, else `Unauthenticated`.

    `signature_required=False` admits the Auth emulator's unsigned tokens (empty third
    segment); the verifier still decides whether unsigned tokens are acceptable."""
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise Unauthenticated()
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise Unauthenticated()
    header, payload, signature = parts
    if not header or not payload or (signature_required and not signature):
        raise Unauthenticated()
    if len(header) > MAX_HEADER_CHARS:
        raise Unauthenticated()
    try:
        header_claims = _segment_json(header)
        payload_claims = _segment_json(payload)
    except (ValueError, errors.InvalidRequest):  # binascii.Error is a ValueError
        raise Unauthenticated() from None
    if (
        not isinstance(header_claims, dict)
        or not isinstance(header_claims.get("alg"), str)
        or not set(header_claims) <= _HEADER_KEYS
        or not all(isinstance(value, str) for value in header_claims.values())
    ):
        raise Unauthenticated()
    if not isinstance(payload_claims, dict):
        raise Unauthenticated()
    return payload_claims
