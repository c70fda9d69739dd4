"""Policies for the two mitra routes every online mitra hits at once — the heartbeat and
accept — that resolve the caller through the heartbeat's UID cache (`presence:uid:<uid>`,
one Valkey GET or none) instead of PostgreSQL.

- `MITRA_HEARTBEAT`: the token only. The heartbeat resolves the UID in the same single
  Valkey round trip that records the beat, and calls the caller's `resolve` only on a cache
  miss (first beat, hourly TTL, Valkey lost its data) — where presence also restores itself
  from PostgreSQL. So the miss path lives here, and presence knows nothing of identity.
- `MITRA_CACHED`: the mitra id, from the cache; PostgreSQL only on a miss. Only the
  heartbeat fills the cache: its miss is how it learns that Valkey lost its data and
  presence must be restored, so a miss here must stay a miss. An online mitra heartbeats
  every interval, so its entry is normally there.

Both refuse on the miss path what `Mitra` refuses: a revoked uid (401), a non-mitra (403
forbidden), a suspended mitra (403 suspended). Suspension, phone change and revocation
delete the cache entry (`shared.domain.presence.forget_mitra_identity`, the revocation
sweep), so a suspended or revoked mitra reaches the miss path at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from flask import Request

from shared import db
from shared.errors import DomainError, Forbidden, Suspended, Unauthenticated
from shared.identity import revocation
from shared.identity.firebase import FirebaseUser, verify_id_token
from shared.identity.policies import bearer_token
from shared.store import mitras
from shared.store.live import presence as live_presence
from shared.store.mitras import MitraRow


@dataclass(frozen=True, slots=True)
class ResolvedMitra:
    mitra: MitraRow
    held: int  # active sessions PostgreSQL holds for the mitra


@dataclass(frozen=True, slots=True)
class HeartbeatCaller:
    user: FirebaseUser

    @property
    def uid(self) -> str:
        return self.user.uid

    def resolve(self) -> ResolvedMitra:
        """The heartbeat's cache-miss path: the active mitra and the sessions it holds, in
        one read."""
        _refuse_revoked(self.user.uid)
        with db.read() as connection:
            mitra = mitras.by_uid(connection, self.user.uid)
            held = mitras.active_session_count(connection, mitra.id) if mitra else 0
        return ResolvedMitra(_require_active(mitra), held)


@dataclass(frozen=True, slots=True)
class CachedMitraCaller:
    user: FirebaseUser
    mitra_id: UUID


class MitraHeartbeat:
    """A verified Firebase ID token; the mitra is resolved by the heartbeat itself."""

    scheme = "firebase"
    role = "mitra"
    description = "Firebase ID token of a mitra who has logged in with phone OTP."
    raises: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden, Suspended)

    def __call__(self, request: Request) -> HeartbeatCaller:
        return HeartbeatCaller(verify_id_token(bearer_token(request)))


class CachedMitra:
    """An active mitra's id, resolved through the heartbeat's UID cache."""

    scheme = "firebase"
    role = "mitra"
    description = "Firebase ID token of a mitra who has logged in with phone OTP."
    raises: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden, Suspended)

    def __call__(self, request: Request) -> CachedMitraCaller:
        user = verify_id_token(bearer_token(request))
        cached = live_presence.cached_mitra_id(user.uid)
        if cached is not None:
            return CachedMitraCaller(user, UUID(cached))
        _refuse_revoked(user.uid)
        with db.read() as connection:
            mitra = mitras.by_uid(connection, user.uid)
        return CachedMitraCaller(user, _require_active(mitra).id)


def _refuse_revoked(firebase_uid: str) -> None:
    # The UID-cache miss paths: the sweeper deletes a revoked uid's cache entry, so its next
    # heartbeat or accept lands here, off the common path.
    if revocation.is_revoked(firebase_uid):
        raise Unauthenticated("This account is disabled.")


def _require_active(mitra: MitraRow | None) -> MitraRow:
    if mitra is None:
        raise Forbidden("Only mitras may use this. Log in with your mitra phone number.")
    if mitra.suspended:
        raise Suspended()
    return mitra


MITRA_HEARTBEAT = MitraHeartbeat()
MITRA_CACHED = CachedMitra()
