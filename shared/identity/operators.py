"""Operator (control-center) tokens: short-lived HS256 JWTs signed with
`OPERATOR_TOKEN_SECRET` (Secret Manager in production), and the `Operator(min_role)` policy.

A token carries the operator id (`sub`), the role at login (`role`, informational), the
password-change time (`pwd`) and its expiry. Every request re-reads the operator row (the
admin function is not a hot path), so suspension, a password change or a demotion takes
effect on the next request, not when the token expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from flask import Request

from shared import db
from shared.config import get_config
from shared.errors import DomainError, Forbidden, Unauthenticated
from shared.identity.policies import bearer_token
from shared.identity.token_shape import check_jwt_shape
from shared.lazy import lazy_module
from shared.store import operators
from shared.store.operators import OperatorRow

if TYPE_CHECKING:
    import jwt
else:
    # PyJWT brings cryptography (~100 ms of cold start); only operator routes need it.
    jwt = lazy_module("jwt")

Role = Literal["viewer", "admin", "superadmin"]
RANK: dict[str, int] = {"viewer": 1, "admin": 2, "superadmin": 3}

_ALGORITHM = "HS256"
_ISSUER = "halo-bestie-control-center"


@dataclass(frozen=True, slots=True)
class OperatorCaller:
    operator: OperatorRow
    # The token's `exp` (epoch seconds): a stream opened with it ends when it passes.
    expires_at: int | None = None

    @property
    def id(self) -> UUID:
        return self.operator.id


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


def _secret() -> str:
    secret = get_config().operator_token_secret.get_secret_value()
    if len(secret) < 32:
        # An empty or short HMAC key would make every token forgeable.
        raise RuntimeError("OPERATOR_TOKEN_SECRET must be set to at least 32 characters.")
    return secret


def password_stamp(operator: OperatorRow) -> int:
    return int(operator.password_changed_at.timestamp() * 1_000_000)


def issue_token(operator: OperatorRow) -> IssuedToken:
    now = int(time.time())
    expires = now + get_config().operator_token_ttl_s
    claims = {
        "iss": _ISSUER,
        "sub": str(operator.id),
        "role": operator.role,
        "pwd": password_stamp(operator),
        "iat": now,
        "exp": expires,
    }
    return IssuedToken(
        token=jwt.encode(claims, _secret(), algorithm=_ALGORITHM),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def verify_token(token: str) -> OperatorRow:
    """The operator behind a token, or `Unauthenticated` — for a bad signature, another
    algorithm (a Firebase ID token is RS256), expiry, a suspended operator or a token older
    than the operator's last password change."""
    return verify_token_expiry(token)[0]


def verify_token_expiry(token: str) -> tuple[OperatorRow, int]:
    """`verify_token`, with the token's expiry (epoch seconds)."""
    check_jwt_shape(token)  # before PyJWT's unbounded json.loads of header and payload
    try:
        claims = jwt.decode(
            token,
            _secret(),
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["iss", "sub", "pwd", "exp"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise Unauthenticated() from None
    with db.read() as connection:
        try:
            operator = operators.by_id(connection, _uuid(claims["sub"]))
        except ValueError:
            raise Unauthenticated() from None
    if operator is None or operator.suspended or claims.get("pwd") != password_stamp(operator):
        raise Unauthenticated()
    return operator, int(claims["exp"])


def _uuid(text: object) -> UUID:
    return UUID(str(text))


class Operator:
    """An active operator whose current role is at least `min_role`."""

    scheme = "operator"

    def __init__(self, min_role: Role) -> None:
        self.min_role = min_role
        self.role = f"operator:{min_role}"
        self.description = f"Operator token of a {min_role} or higher."
        self.raises: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden)

    def __call__(self, request: Request) -> OperatorCaller:
        operator, expires_at = verify_token_expiry(bearer_token(request))
        return self.admit(operator, expires_at)

    def admit(self, operator: OperatorRow, expires_at: int) -> OperatorCaller:
        """The caller, once the operator behind a token (or a stream ticket) is known."""
        if RANK.get(operator.role, 0) < RANK[self.min_role]:
            raise Forbidden(f"This needs the {self.min_role} role.")
        return OperatorCaller(operator=operator, expires_at=expires_at)


VIEWER = Operator("viewer")
ADMIN = Operator("admin")
SUPERADMIN = Operator("superadmin")
