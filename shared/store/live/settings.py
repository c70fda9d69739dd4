"""The current operator settings (`settings:current`, JSON with its version), shared by every
instance; PostgreSQL's latest version is the truth it is refilled from."""

from __future__ import annotations

from shared import valkey
from shared.store.live import keys


def current() -> str | None:
    raw = valkey.client().get(keys.SETTINGS)
    return str(raw) if raw else None


def fill(document: str) -> None:
    """Refill after a miss; NX: never overwrite a newer version published meanwhile."""
    valkey.client().set(keys.SETTINGS, document, nx=True)


def publish(document: str) -> None:
    valkey.client().set(keys.SETTINGS, document)
