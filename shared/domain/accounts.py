"""Client and mitra identity: profiles, registration (linking an anonymous Firebase user to
Google, Apple or phone), and mitra login by phone OTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import db
from shared.domain import devices, presence, settings
from shared.errors import Conflict, NotAMitra, Suspended, Unauthenticated
from shared.identity.firebase import FirebaseUser
from shared.lazy import lazy_module
from shared.store import clients, ledger, mitras
from shared.store.clients import ClientRow
from shared.store.mitras import MitraRow

if TYPE_CHECKING:
    from shared.domain import erasure
else:
    # Registration asks it one question; importing it (and the pairing and session domain
    # it erases through) at start cost the auth function ≈ 60 ms of every cold start.
    erasure = lazy_module("shared.domain.erasure")

REGISTERED_PROVIDERS = frozenset({"google.com", "apple.com", "phone"})


def _is_registered(user: FirebaseUser) -> bool:
    return user.sign_in_provider in REGISTERED_PROVIDERS


def register_client(user: FirebaseUser, display_name: str) -> tuple[ClientRow, bool]:
    """Create the caller's client profile, granting the trial; idempotent: (profile, created)."""
    if erasure.is_erased_uid(user.uid):
        # A token of a just-deleted account (it verifies for up to an hour) must not bring
        # the profile back under the old uid; signing in again gives a new uid.
        raise Unauthenticated("This account was deleted. Sign in again.")
    trial_sessions = settings.current().trial_sessions
    with db.transaction() as connection:
        if mitras.by_uid(connection, user.uid) is not None:
            raise Conflict("This account belongs to a mitra.")
        client, created = clients.insert_if_absent(
            connection,
            firebase_uid=user.uid,
            display_name=display_name,
            sign_in_provider=user.sign_in_provider,
            registered=_is_registered(user),
            phone=user.phone_number,
            email=user.email,
        )
        if created and trial_sessions > 0:
            ledger.append(
                connection,
                client_id=client.id,
                bucket="trial",
                kind="grant",
                sessions=trial_sessions,
                reference=f"trial-grant:{client.id}",
            )
    if client.suspended:
        raise Suspended()
    return client, created


def rename_client(client: ClientRow, display_name: str) -> ClientRow:
    with db.transaction() as connection:
        return clients.update_display_name(connection, client.id, display_name)


def link_client(client: ClientRow, user: FirebaseUser) -> ClientRow:
    """Record that the client linked their account (same UID) to a real sign-in method.

    The token must come from the linked provider: an anonymous token proves nothing."""
    if not _is_registered(user):
        raise Conflict(
            "Link the account to Google, Apple or phone in the app first, then send the new token.",
            sign_in_provider=user.sign_in_provider,
        )
    with db.transaction() as connection:
        return clients.mark_registered(
            connection,
            client.id,
            sign_in_provider=user.sign_in_provider,
            phone=user.phone_number,
            email=user.email,
        )


def login_mitra(user: FirebaseUser) -> MitraRow:
    """Link the Firebase user to the mitra whose phone the token proves."""
    if user.sign_in_provider != "phone" or not user.phone_number:
        raise NotAMitra("Mitras log in with their phone number (OTP).")
    with db.transaction() as connection:
        mitra = mitras.by_phone(connection, user.phone_number, lock=True)
        if mitra is None:
            raise NotAMitra()
        if mitra.suspended:
            raise Suspended()
        linked = mitras.link_firebase_uid(connection, mitra.id, user.uid)
    # A cached resolution of either UID may name the old binding; the next request re-reads.
    presence.forget_mitra_identity(mitra.firebase_uid)
    presence.forget_mitra_identity(user.uid)
    return linked


def logout_mitra(mitra: MitraRow) -> None:
    presence.go_offline(mitra.id, reason="logout")
    # A logged-out phone must not keep receiving the mitra's pushes.
    devices.forget_all("mitra", mitra.id)
