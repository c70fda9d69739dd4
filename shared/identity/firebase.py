"""Firebase ID-token verification with firebase-admin.

The SDK caches Google's public certificates (honouring their Cache-Control), so a
verification costs no network round trip after the first. With `FIREBASE_AUTH_EMULATOR_HOST`
set, the SDK accepts the emulator's unsigned tokens and checks only `aud`, `iss` and `sub`;
signature and expiry are verified only in production (README, "What tests cannot cover").
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from shared.config import get_config
from shared.errors import Unauthenticated, Unavailable
from shared.identity.token_cache import TokenCache
from shared.identity.token_shape import check_jwt_shape
from shared.web.untrusted import text_problem

_lock = threading.Lock()
_app: Any = None


@dataclass(frozen=True, slots=True)
class FirebaseUser:
    """The verified facts of an ID token."""

    uid: str
    sign_in_provider: str
    phone_number: str | None
    email: str | None
    # The token's `exp` (epoch seconds): a stream opened with it ends when it passes.
    expires_at: int | None = None


def _firebase_app() -> Any:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                import firebase_admin

                config = get_config()
                if config.firebase_auth_emulator_host:
                    os.environ.setdefault(
                        "FIREBASE_AUTH_EMULATOR_HOST", config.firebase_auth_emulator_host
                    )
                _app = firebase_admin.initialize_app(
                    options={"projectId": config.firebase_project_id},
                    name=f"halo-{config.firebase_project_id}",
                )
    return _app


def reset() -> None:
    """Forget the app and the tokens it verified (tests that switch projects)."""
    global _app
    verified.clear()
    with _lock:
        if _app is not None:
            import firebase_admin

            firebase_admin.delete_app(_app)
        _app = None


# What the SDK may raise on a token that passed the shape check but is still malformed
# (wrong claim types, bad base64 in the signature, ...): all of it means "not a valid token".
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)
_MAX_UID_CHARS = 128  # Firebase's own limit on a uid


# Tokens that verified, until their `exp` (shared.identity.token_cache: why this is sound).
verified: TokenCache[FirebaseUser] = TokenCache()


def verify_id_token(token: str) -> FirebaseUser:
    """Verify a Firebase ID token, or raise `Unauthenticated` (never leaks why in detail).

    A token this process verified before and whose `exp` has not passed is answered from
    `verified` without decoding it again. Otherwise the token's shape is checked first
    (`token_shape`), so the SDK's decoders never see a document they could recurse on or
    choke over."""
    known = verified.get(token)
    if known is not None:
        return known
    user = _verify(token)
    verified.put(token, user, user.expires_at)
    return user


def _verify(token: str) -> FirebaseUser:
    from firebase_admin import auth

    check_jwt_shape(token, signature_required=not get_config().firebase_auth_emulator_host)
    try:
        claims = auth.verify_id_token(token, app=_firebase_app(), clock_skew_seconds=10)
    except auth.CertificateFetchError:
        raise Unavailable("Cannot verify sign-in right now.", retry_after_s=5) from None
    except (
        *_MALFORMED,
        auth.InvalidIdTokenError,
        auth.ExpiredIdTokenError,
        auth.RevokedIdTokenError,
        auth.UserDisabledError,
    ):
        raise Unauthenticated() from None
    uid = claims.get("uid")
    if not isinstance(uid, str) or not uid or len(uid) > _MAX_UID_CHARS or text_problem(uid):
        raise Unauthenticated()
    firebase_claims = claims.get("firebase")
    provider = (
        firebase_claims.get("sign_in_provider") if isinstance(firebase_claims, dict) else None
    )
    return FirebaseUser(
        uid=uid,
        sign_in_provider=_text_claim(provider) or "unknown",
        phone_number=_text_claim(claims.get("phone_number")),
        email=_text_claim(claims.get("email")),
        expires_at=_int_or_none(claims.get("exp")),
    )


def _text_claim(value: object) -> str | None:
    """A string claim we may store, or None (an unsigned emulator token can say anything)."""
    if isinstance(value, str) and len(value) <= 320 and text_problem(value) is None:
        return value
    return None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return int(value)
    except (OverflowError, ValueError):  # inf / nan in an unsigned emulator token
        return None


def delete_user(uid: str) -> bool:
    """Delete the Firebase user (account erasure): True if it existed, False if it was
    already gone, so a retried erasure answers as the first one did."""
    from firebase_admin import auth
    from firebase_admin.exceptions import FirebaseError

    try:
        auth.delete_user(uid, app=_firebase_app())
    except auth.UserNotFoundError:
        return False
    except FirebaseError:
        raise Unavailable("Cannot reach sign-in to delete the account; try again.") from None
    return True
