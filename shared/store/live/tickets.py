"""Stream tickets in Valkey (shared.identity.tickets): each single-use ticket's subject, and
per caller the set of its unredeemed ticket keys, so an erasure can drop them."""

from __future__ import annotations

from shared import valkey
from shared.store.live import keys


def store(
    audience: str, ticket: str, who: str, subject: str, lifetime_ms: int, held_ms: int
) -> None:
    """Keep the ticket's subject (JSON) for `lifetime_ms` and note it under its caller."""
    key, held = keys.ticket(audience, ticket), keys.tickets_held(audience, who)
    pipe = valkey.client().pipeline(transaction=False)
    pipe.set(key, subject, px=lifetime_ms)
    pipe.sadd(held, key)
    pipe.pexpire(held, held_ms)
    pipe.execute()


def take(audience: str, ticket: str) -> str | None:
    """The ticket's subject, deleted as it is read (a ticket redeems once)."""
    raw = valkey.client().getdel(keys.ticket(audience, ticket))
    return None if raw is None else str(raw)


def discard_all(audience: str, who: str) -> None:
    """Drop every unredeemed ticket issued to `who`."""
    client = valkey.client()
    held = keys.tickets_held(audience, who)
    issued = [k.decode() if isinstance(k, bytes) else k for k in client.smembers(held)]
    client.delete(held, *issued)
