"""A pairing request's live state in Valkey (docs/pairing.md): `pairing:req:<id>` (status,
client, window, exclude, claim), `pairing:req:<id>:declined` and the open-request index
`pairing:searching`. Valkey arbitrates the race for a request; PostgreSQL records the
outcome (shared.domain.pairing).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from uuid import UUID

from shared import valkey
from shared.store.live import keys


class LiveStatus(StrEnum):
    """A request's status as its live state holds it; UNKNOWN: no live state (never
    blasted, long closed, or lost with Valkey)."""

    SEARCHING = "searching"
    CLAIMED = "claimed"
    MATCHED = "matched"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class Claim(StrEnum):
    CLAIMED = "claimed"
    UNKNOWN = "unknown"
    NOT_OFFERED = "not_offered"
    ALREADY_TAKEN = "already_taken"
    EXPIRED = "expired"
    NOT_ONLINE = "not_online"
    AT_CAPACITY = "at_capacity"


class Decline(StrEnum):
    DECLINED = "declined"
    UNKNOWN = "unknown"
    NOT_OFFERED = "not_offered"


def blast(
    request_id: UUID | str,
    client_id: UUID | str,
    *,
    created_at_ms: int,
    expires_at_ms: int,
    lifetime_ms: int,
    now_ms: int,
    cutoff_ms: int,
    exclude: UUID | str | None,
) -> int:
    """Open the request's search (shared/lua/blast.lua): how many mitras are available now
    (never `exclude`); 0 writes nothing."""
    return int(
        valkey.script("blast")(
            keys=[keys.request(request_id), keys.SEARCHING, keys.AVAILABLE],
            args=[
                cutoff_ms,
                str(client_id),
                created_at_ms,
                expires_at_ms,
                lifetime_ms,
                str(request_id),
                now_ms,
                str(exclude) if exclude is not None else "",
            ],
        )
    )


def open_offer_ids(mitra_id: UUID | str, now_ms: int, cutoff_ms: int) -> list[str]:
    """The requests open to the mitra now, earliest expiry first
    (shared/lua/pairing_open_offers.lua)."""
    ids = valkey.script("pairing_open_offers")(
        keys=[keys.SEARCHING, keys.AVAILABLE],
        args=[str(mitra_id), now_ms, cutoff_ms, keys.REQUEST_PREFIX],
    )
    return [str(i) for i in ids]


def claim(
    request_id: UUID | str, mitra_id: UUID | str, now_ms: int, cutoff_ms: int, default_capacity: int
) -> Claim:
    """Claim the request for the mitra and take one unit of its capacity, atomically
    (shared/lua/claim.lua); only CLAIMED changes anything."""
    return Claim(
        valkey.script("claim")(
            keys=[keys.request(request_id), keys.declined(request_id), *keys.PRESENCE],
            args=[str(mitra_id), now_ms, cutoff_ms, default_capacity],
        )
    )


def decline(request_id: UUID | str, mitra_id: UUID | str) -> Decline:
    """Hide the request from the mitra (shared/lua/pairing_decline.lua)."""
    return Decline(
        valkey.script("pairing_decline")(
            keys=[keys.request(request_id), keys.declined(request_id)], args=[str(mitra_id)]
        )
    )


def unclaim(
    request_id: UUID | str, mitra_id: str, now_ms: int, default_capacity: int
) -> LiveStatus:
    """Undo the mitra's claim (shared/lua/unclaim.lua): the request searches again (or is
    expired) and the unit goes back. The status afterwards; unchanged when not its claim."""
    return LiveStatus(
        valkey.script("unclaim")(
            keys=[keys.request(request_id), keys.SEARCHING, *keys.PRESENCE],
            args=[mitra_id, now_ms, default_capacity, str(request_id)],
        )
    )


def close(request_id: UUID | str, wanted: str, now_ms: int) -> LiveStatus:
    """Close a searching request as `wanted` (cancelled, or expired once overdue;
    shared/lua/close_request.lua); the status afterwards."""
    status, _changed = valkey.script("close_request")(
        keys=[keys.request(request_id), keys.SEARCHING], args=[wanted, now_ms, str(request_id)]
    )
    return LiveStatus(status)


def mark_matched(request_id: UUID | str, session_id: UUID | str) -> None:
    """The match is recorded in PostgreSQL: the request leaves the open index."""
    pipe = valkey.client().pipeline(transaction=True)
    pipe.hset(
        keys.request(request_id), mapping={"status": "matched", "session_id": str(session_id)}
    )
    pipe.zrem(keys.SEARCHING, str(request_id))
    pipe.execute()


def claims(request_ids: Sequence[UUID | str]) -> list[tuple[str | None, str | None, int | None]]:
    """(status, claiming mitra id, claimed at epoch ms) of each request, in one round trip."""
    pipe = valkey.client().pipeline(transaction=False)
    for request_id in request_ids:
        pipe.hmget(keys.request(request_id), "status", "mitra_id", "claimed_at")
    return [
        (status, mitra_id, int(claimed_at) if claimed_at else None)
        for status, mitra_id, claimed_at in pipe.execute()
    ]
