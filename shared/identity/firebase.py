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
    """Forget the app (tests that switch projects)."""
    global _app
    with _lock:
        if _app is not None:
            import firebase_admin

            firebase_admin.delete_app(_app)
        _app = None


def verify_id_token(token: str) -> FirebaseUser:
    """Verify a Firebase ID token, or raise `Unauthenticated` (never leaks why in detail)."""
    from firebase_admin import auth

    try:
        claims = auth.verify_id_token(token, app=_firebase_app(), clock_skew_seconds=10)
    except auth.CertificateFetchError:
        raise Unavailable("Cannot verify sign-in right now.", retry_after_s=5) from None
    except (
        ValueError,
        auth.InvalidIdTokenError,
        auth.ExpiredIdTokenError,
        auth.RevokedIdTokenError,
        auth.UserDisabledError,
    ):
        raise Unauthenticated() from None
    firebase_claims = claims.get("firebase") or {}
    return FirebaseUser(
        uid=str(claims["uid"]),
        sign_in_provider=str(firebase_claims.get("sign_in_provider", "unknown")),
        phone_number=claims.get("phone_number"),
        email=claims.get("email"),
        expires_at=_int_or_none(claims.get("exp")),
    )


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None
