"""Identity that revokes: a Firebase user who is disabled or deleted is refused on every
route within `REVOCATION_CHECK_S` + one sweep interval (default 240 s + 60 s = 5 minutes),
without a call to Firebase on any request path.

ID tokens are verified locally (cached Google certificates); asking Firebase per request
whether the user is still enabled would put a network call on every request, the heartbeat
included. Instead:

- every Firebase-token route but the heartbeat runs `admit(uid)`: ONE pipelined Valkey round
  trip that checks `revoked:<sha256(uid)>` and notes the uid as seen (`identity:seen`, uid →
  last seen) and due for a check if new (`identity:due`, uid → when to check next, NX);
- the sweeper's `revocations` step asks Firebase about the due uids in batches of 100
  (`get_users`, one call per 100), also about every online mitra (who may only heartbeat for
  hours), marks the disabled or deleted ones `revoked:<sha256(uid)>` for as long as a token
  of theirs can live, drops a mitra's heartbeat UID cache, and forgets uids not seen for
  longer than a token lives;
- the heartbeat stays one Valkey round trip: its common path reads the UID cache only, and
  a revoked mitra's cache entry is deleted, so their next beat misses and the miss path
  (`shared.identity.cached_mitra`) checks the mark before resolving the mitra again.

Verified ID tokens are cached per process until their `exp` (`token_cache`); that changes
none of this, since verification never asked Firebase about revocation: every check above
still runs on every request, after the (cached or fresh) verification.

A Valkey outage makes `admit` fail like any other Valkey call (503): a check that waved
requests through would not be one. Losing Valkey's data forgets marks; the next sweep
(every uid is due again once seen) restores them.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared import db
from shared.clock import now_ms
from shared.config import get_config
from shared.errors import Unauthenticated
from shared.store.live import identity as live

# An ID token lives an hour; a mark outlives every token issued before the revocation.
TOKEN_LIFETIME_S = 3600 + 300
FIREBASE_BATCH = 100  # get_users' limit per call


def admit(uid: str) -> None:
    """Refuse a revoked uid (401); note it as seen unless it is revoked or its account was
    erased (a token still in circulation must not put such a uid back). One round trip."""
    if live.admit(uid, now_ms()):
        raise Unauthenticated("This account is disabled.")


def is_revoked(uid: str) -> bool:
    """The heartbeat's miss path (no seen-mark: online mitras are checked by the sweeper)."""
    return live.is_revoked(uid)


def forget(uid: str) -> None:
    """An erased account: its uid leaves the check lists."""
    live.forget([uid])


def _online_mitra_uids() -> list[str]:
    import sqlalchemy as sa

    with db.read() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT firebase_uid FROM mitras WHERE is_online AND firebase_uid IS NOT NULL"
                )
            ).scalars()
        )


def _revoked_among(uids: list[str]) -> set[str]:
    """The uids Firebase says are disabled or gone (one call per 100)."""
    from firebase_admin import auth

    from shared.identity.firebase import _firebase_app

    revoked: set[str] = set()
    for start in range(0, len(uids), FIREBASE_BATCH):
        chunk = uids[start : start + FIREBASE_BATCH]
        result = auth.get_users([auth.UidIdentifier(uid) for uid in chunk], app=_firebase_app())
        found = {user.uid: user for user in result.users}
        revoked.update(uid for uid in chunk if uid not in found or found[uid].disabled)
    return revoked


def mark_revoked(uid: str) -> None:
    """A uid whose Firebase user we just deleted ourselves: refused at once, forgotten."""
    _mark([uid])


def _mark(uids: Iterable[str]) -> None:
    live.mark_revoked(uids, TOKEN_LIFETIME_S)


def sweep() -> dict[str, int]:
    """The sweeper's step: check the due uids (at most `REVOCATION_CHECK_BATCH` per run)."""
    config = get_config()
    now = now_ms()
    stale = live.seen_before(now - TOKEN_LIFETIME_S * 1000)
    live.forget(stale)
    live.note_seen(_online_mitra_uids(), now)
    due = live.due(now, config.revocation_check_batch)
    revoked = _revoked_among(due)
    _mark(revoked)
    live.reschedule(
        [uid for uid in due if uid not in revoked], now + config.revocation_check_s * 1000
    )
    return {"checked": len(due), "revoked": len(revoked), "forgotten": len(stale)}
