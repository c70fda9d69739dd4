"""Who may call a route: each policy turns a request into a typed caller or refuses it.

Client and mitra routes take Firebase ID tokens; a Firebase user is a client, a mitra, or
(before registering) nobody yet. Wrong role → 403 forbidden; suspended → 403 suspended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from flask import Request

from shared import db
from shared.errors import DomainError, Forbidden, ProfileMissing, Suspended, Unauthenticated
from shared.identity import revocation
from shared.identity.firebase import FirebaseUser, verify_id_token
from shared.store import clients, mitras
from shared.store.clients import ClientRow
from shared.store.mitras import MitraRow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_Profile = TypeVar("_Profile", ClientRow, MitraRow)


def bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <token>'.")
    return token.strip()


@dataclass(frozen=True, slots=True)
class ClientCaller:
    user: FirebaseUser
    client: ClientRow


@dataclass(frozen=True, slots=True)
class MitraCaller:
    user: FirebaseUser
    mitra: MitraRow


class Open:
    """No authentication (public config, webhooks that authenticate themselves)."""

    scheme = None
    role = "open"
    description = "No authentication."
    raises: tuple[type[DomainError], ...] = ()

    def __call__(self, request: Request) -> None:
        return None


class FirebaseSignedIn:
    """Any verified Firebase user, profile or not (register, link, mitra login).

    `revocable=False` only for account deletion: a user whose Firebase account is already
    gone (deleted by the first call) must get the same answer on a retry."""

    scheme = "firebase"
    role = "firebase"
    description = "Firebase ID token of any signed-in user (anonymous allowed)."
    raises: tuple[type[DomainError], ...] = (Unauthenticated,)

    def __init__(self, *, revocable: bool = True) -> None:
        self.revocable = revocable

    def __call__(self, request: Request) -> FirebaseUser:
        user = verify_id_token(bearer_token(request))
        if self.revocable:
            revocation.admit(user.uid)
        return user


class Client:
    """A Firebase user with an active client profile."""

    scheme = "firebase"
    role = "client"
    description = "Firebase ID token of a client with a profile."
    raises: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden, Suspended, ProfileMissing)

    def __call__(self, request: Request) -> ClientCaller:
        return self.admit(verify_id_token(bearer_token(request)))

    def admit(self, user: FirebaseUser) -> ClientCaller:
        """The caller, once the Firebase user behind a token (or a stream ticket) is known."""
        return ClientCaller(user=user, client=_admit_profile(user, _client_profile))


class Mitra:
    """A Firebase user linked to an active mitra (linked at phone login)."""

    scheme = "firebase"
    role = "mitra"
    description = "Firebase ID token of a mitra who has logged in with phone OTP."
    raises: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden, Suspended)

    def __call__(self, request: Request) -> MitraCaller:
        return self.admit(verify_id_token(bearer_token(request)))

    def admit(self, user: FirebaseUser) -> MitraCaller:
        """The caller, once the Firebase user behind a token (or a stream ticket) is known."""
        return MitraCaller(user=user, mitra=_admit_profile(user, _mitra_profile))


def _admit_profile(
    user: FirebaseUser, profile_of: Callable[[Connection, str], _Profile]
) -> _Profile:
    """The one admission rule for profile holders: a revoked Firebase user is refused, the
    profile must exist (`profile_of` raises the role's own refusal when it does not), and a
    suspended profile is refused."""
    revocation.admit(user.uid)
    with db.read() as connection:
        profile = profile_of(connection, user.uid)
    if profile.suspended:
        raise Suspended()
    return profile


def _client_profile(connection: Connection, uid: str) -> ClientRow:
    client = clients.by_uid(connection, uid)
    if client is None:
        if mitras.by_uid(connection, uid) is not None:
            raise Forbidden("Mitra accounts cannot use the client app.")
        raise ProfileMissing()
    return client


def _mitra_profile(connection: Connection, uid: str) -> MitraRow:
    mitra = mitras.by_uid(connection, uid)
    if mitra is None:
        raise Forbidden("Only mitras may use this. Log in with your mitra phone number.")
    return mitra


OPEN = Open()
FIREBASE_SIGNED_IN = FirebaseSignedIn()
FIREBASE_SIGNED_IN_EVEN_REVOKED = FirebaseSignedIn(revocable=False)
CLIENT = Client()
MITRA = Mitra()
