"""The push device registry: which phones (FCM registration tokens) belong to an account.

A PUT is idempotent (the same token again updates it); a token another account registered
moves to the caller (a shared phone now signed in as someone else); an account keeps at
most `MAX_PER_OWNER` devices, the least recently seen dropped first. Tokens FCM reports as
unregistered or invalid are deleted by the notifier (`forget_tokens`).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from shared import db
from shared.errors import NotFound
from shared.log import get_logger, log_event
from shared.store import devices as store

OwnerKind = Literal["client", "mitra"]
logger = get_logger("halo.devices")


def register(
    owner_kind: OwnerKind,
    owner_id: UUID,
    token: str,
    *,
    platform: str,
    app_version: str,
    locale: str,
) -> bool:
    """Register or refresh the device; True when it is new for this account."""
    with db.transaction() as connection:
        outcome = store.register(
            connection,
            token=token,
            owner_kind=owner_kind,
            owner_id=owner_id,
            platform=platform,
            app_version=app_version,
            locale=locale,
        )
    if outcome.dropped:
        log_event(
            logger, 20, "oldest devices dropped", owner_kind=owner_kind, count=outcome.dropped
        )
    return outcome.created


def unregister(owner_kind: OwnerKind, owner_id: UUID, token: str) -> None:
    """Remove the caller's device; `not_found` for a token the caller does not hold (someone
    else's tokens are indistinguishable from unknown ones)."""
    with db.transaction() as connection:
        deleted = store.delete_owned(
            connection, token=token, owner_kind=owner_kind, owner_id=owner_id
        )
    if not deleted:
        raise NotFound("No device of yours has that token.")


def forget_all(owner_kind: OwnerKind, owner_id: UUID) -> int:
    """Logout: the account's phones stop receiving pushes."""
    with db.transaction() as connection:
        return store.delete_all_of(connection, owner_kind=owner_kind, owner_id=owner_id)


def forget_tokens(tokens: list[str]) -> int:
    """Tokens FCM answered UNREGISTERED or invalid for."""
    with db.transaction() as connection:
        return store.delete_tokens(connection, tokens)
