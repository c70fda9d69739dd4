"""Mitra presence: online/offline transitions (durable in PostgreSQL, one online-log row per
real transition) and heartbeat times in Valkey (`presence:heartbeats`, a sorted set scored by
the last heartbeat in epoch milliseconds, holding the mitras PostgreSQL has put online).

Availability is lazy: a member whose last heartbeat is older than `heartbeat_timeout_s`
(score below `fresh_cutoff_ms`) is unavailable from that instant, to pairing, the dashboard
and this module alike. The sweeper makes it durable (`expire_lapsed`) and heals Valkey from
PostgreSQL (`reconcile`). See docs/presence.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol
from uuid import UUID

from shared import db, domain_events, events
from shared.clock import now_ms
from shared.domain import settings
from shared.domain.settings import ProductSettings
from shared.errors import AtCapacity, NotFound, NotOnline
from shared.log import get_logger, log_event
from shared.store import mitras, presence_transitions
from shared.store import sessions as session_store
from shared.store.live import capacity, pubsub
from shared.store.live import presence as heartbeats
from shared.store.live.presence import Beat
from shared.store.mitras import MitraRow
from shared.store.presence_transitions import Reason

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "FullInPostgres",
    "MissResolution",
    "PresenceView",
    "expire_lapsed",
    "forget_mitra_identity",
    "fresh_cutoff_ms",
    "go_offline",
    "go_online",
    "heal_load",
    "heartbeat",
    "lock_room_for_session",
    "reconcile",
    "set_status",
    "view",
]

Status = Literal["online", "offline"]

SWEEP_BATCH = 500
logger = get_logger("halo.presence")


@dataclass(frozen=True, slots=True)
class PresenceView:
    status: Status
    last_heartbeat_at: datetime | None
    heartbeat_interval_s: int
    heartbeat_timeout_s: int


def fresh_cutoff_ms(current: ProductSettings, now: int) -> int:
    """A mitra is available iff its heartbeat score is at or after this (lazy expiry)."""
    return now - current.heartbeat_timeout_s * 1000


def _at(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# -- the mitra's own view and toggle ---------------------------------------------------------


def view(mitra: MitraRow) -> PresenceView:
    """What the mitra app shows: offline as soon as the heartbeats lapsed, swept or not."""
    current = settings.current()
    last = heartbeats.last_beat_ms(str(mitra.id))
    fresh = last is not None and last >= fresh_cutoff_ms(current, now_ms())
    return PresenceView(
        status="online" if mitra.is_online and fresh else "offline",
        last_heartbeat_at=_at(last) if last is not None else None,
        heartbeat_interval_s=current.heartbeat_interval_s,
        heartbeat_timeout_s=current.heartbeat_timeout_s,
    )


def set_status(mitra: MitraRow, status: Status) -> PresenceView:
    """The toggle: idempotent, logging only real transitions."""
    current = settings.current()
    if status == "online":
        at = go_online(mitra)
        return PresenceView(
            "online", _at(at), current.heartbeat_interval_s, current.heartbeat_timeout_s
        )
    go_offline(mitra.id, "manual")
    return PresenceView("offline", None, current.heartbeat_interval_s, current.heartbeat_timeout_s)


def go_online(mitra: MitraRow) -> int:
    """Put the (active) mitra online with a fresh heartbeat; the heartbeat time, epoch ms.

    A mitra still online in PostgreSQL whose heartbeats lapsed is offline in fact: that
    lapse is settled first (its `heartbeat_timeout` row), so the log shows the gap."""
    mitra_id = str(mitra.id)
    now = now_ms()
    if mitra.is_online:
        cutoff = fresh_cutoff_ms(settings.current(), now)
        if heartbeats.claim_lapsed(cutoff, 1, only=[mitra_id]):
            with db.transaction() as connection:
                presence_transitions.go_offline(connection, [mitra_id], "heartbeat_timeout")
    with db.transaction() as connection:
        presence_transitions.go_online(connection, mitra_id, "manual")
        # Back within the grace period: its sessions are no longer orphaned.
        session_store.clear_orphaned(connection, mitra_id)
        # Valkey's load may be gone (data loss) while the mitra still holds sessions.
        held = mitras.active_session_count(connection, mitra_id)
    heartbeats.enter(
        mitra_id,
        mitra.firebase_uid,
        now,
        mitra.max_customers,
        settings.current().max_customers_per_mitra,
        held,
    )
    return now


def go_offline(mitra_id: UUID, reason: Reason, operator_id: UUID | None = None) -> bool:
    """Take a mitra offline; True if this was a real transition (logged once), False if the
    mitra was already offline (nothing written)."""
    with db.transaction() as connection:
        changed = presence_transitions.go_offline(connection, [mitra_id], reason, operator_id)
        session_store.mark_orphaned(connection, changed)
    heartbeats.leave(str(mitra_id))
    _announce_offline(changed, reason)
    return bool(changed)


def forget_mitra_identity(firebase_uid: str | None) -> None:
    """Drop the cached Firebase UID → mitra resolution (on suspend, phone change, relink),
    so the next request re-reads PostgreSQL and sees the change at once."""
    if firebase_uid:
        heartbeats.forget_uid(firebase_uid)


# -- the hot path ----------------------------------------------------------------------------


class MissResolution(Protocol):
    """What the heartbeat's cache-miss path learns from PostgreSQL (the identity policy
    resolves it, refusing whoever may not heartbeat: shared.identity.cached_mitra)."""

    @property
    def mitra(self) -> MitraRow: ...

    @property
    def held(self) -> int:
        """Active sessions PostgreSQL holds for the mitra."""
        ...


def heartbeat(firebase_uid: str, resolve: Callable[[], MissResolution]) -> None:
    """Refresh the caller's heartbeat: one Valkey round trip, no SQL, while the UID is cached.

    On a cache miss `resolve` asks PostgreSQL once (refusing non-mitras and suspended
    mitras) and the resolution is cached with the same round trip that records the beat.
    Raises `NotOnline` when the mitra is offline or its heartbeats already lapsed."""
    now = now_ms()
    current = settings.current()
    cutoff = fresh_cutoff_ms(current, now)
    outcome = heartbeats.beat(firebase_uid, now, cutoff)
    if outcome is Beat.UNKNOWN_UID:
        resolved = resolve()
        mitra = resolved.mitra
        # Online in PostgreSQL but missing from Valkey means Valkey lost it: the cache miss
        # (the UID cache went with it) is where presence rebuilds, one heartbeat later —
        # with the load and capacity PostgreSQL holds, so a full mitra is not offered more.
        outcome = heartbeats.beat(
            firebase_uid,
            now,
            cutoff,
            resolved_mitra_id=str(mitra.id),
            restore=mitra.is_online,
            default_capacity=current.max_customers_per_mitra,
            held=resolved.held,
            max_customers=mitra.max_customers,
        )
    if outcome is not Beat.OK:
        raise NotOnline()


# -- capacity, enforced by PostgreSQL too -----------------------------------------------------


class FullInPostgres(AtCapacity):
    """PostgreSQL says the mitra is full although Valkey's claim let it through (Valkey lost
    or under-counts its load). Carries what PostgreSQL holds, to heal Valkey."""

    def __init__(self, mitra: MitraRow, held: int) -> None:
        super().__init__()
        self.mitra = mitra
        self.held = held


def lock_room_for_session(connection: Connection, mitra_id: UUID) -> MitraRow:
    """Inside the transaction that gives `mitra_id` one more active session: lock the
    mitra's row (every such transaction takes this lock first, so they count one at a time)
    and refuse with `FullInPostgres` when it already holds as many active sessions as its
    capacity. Valkey's claim is the fast gate; this is the guarantee (docs/presence.md)."""
    mitra = mitras.by_id(connection, mitra_id, lock=True)
    if mitra is None:
        raise NotFound("No mitra with that id.")
    held = mitras.active_session_count(connection, mitra_id)
    capacity = mitra.max_customers
    if capacity is None:
        capacity = settings.current().max_customers_per_mitra
    if held >= capacity:
        raise FullInPostgres(mitra, held)
    return mitra


def heal_load(refusal: FullInPostgres) -> None:
    """After PostgreSQL refused a full mitra: raise Valkey's load to what PostgreSQL holds,
    so the mitra leaves `presence:available` and its next claims stop at Valkey."""
    log_event(
        logger,
        30,
        "valkey load was below postgres; raised",
        mitra_id=str(refusal.mitra.id),
        held=refusal.held,
    )
    capacity.restore_load(
        str(refusal.mitra.id),
        refusal.held,
        refusal.mitra.max_customers,
        settings.current().max_customers_per_mitra,
    )


# -- the sweeper's steps ---------------------------------------------------------------------


def expire_lapsed(now: int | None = None, *, batch_size: int = SWEEP_BATCH) -> dict[str, int]:
    """Take offline every mitra whose heartbeats lapsed: claim them atomically in Valkey,
    then flip each in PostgreSQL with one log row, then tell each app. Costs O(lapsed), not
    O(online): the claim is a range query on the sorted set's low end."""
    cutoff = fresh_cutoff_ms(settings.current(), now or now_ms())
    claimed = expired = 0
    while True:
        batch = [mitra_id for mitra_id, _ in heartbeats.claim_lapsed(cutoff, batch_size)]
        claimed += len(batch)
        expired += len(_take_offline(_valid_ids(batch), "heartbeat_timeout"))
        if len(batch) < batch_size:
            return {"claimed": claimed, "expired": expired}


def reconcile(now: int | None = None) -> dict[str, int]:
    """Make Valkey agree with PostgreSQL, the system of record. O(online) reads, batched:
    one ZRANGE, one query per table, one pipeline per change set.

    - online in PostgreSQL, missing from the heartbeat set: if Valkey lost its data, re-add
      with a fresh beat (one full timeout to heartbeat again); if Valkey is intact, the
      mitra was claimed by a sweeper that died before PostgreSQL, or never reached Valkey:
      take it offline (`heartbeat_timeout`) once it has been online longer than the timeout;
    - in the heartbeat set, offline in PostgreSQL: remove, unless refreshed meanwhile;
    - first `presence:load` ← active sessions per mitra, `presence:capacity` ←
      max_customers (before anything is re-added, so a re-added full mitra is not available);
    - `presence:available` ← recomputed from the three above for every member of either
      set (atomic per batch, so a claim or heartbeat meanwhile is never undone). This is
      also what applies a change of the default capacity setting within one sweep."""
    now = now or now_ms()
    current = settings.current()
    timeout = timedelta(seconds=current.heartbeat_timeout_s)
    intact = heartbeats.is_intact()
    in_valkey = heartbeats.members()
    with db.read() as connection:
        online = mitras.online_since_by_id(connection)
    counts = {"restored": 0, "lost": 0, "dropped": 0}
    # Load and capacity first: a mitra re-added below must not count as available on a load
    # Valkey forgot (after data loss `presence:load` is empty while sessions are held).
    counts.update(_reconcile_load())
    counts["capacity_fixed"] = _reconcile_capacity()

    missing = [mitra_id for mitra_id in online if mitra_id not in in_valkey]
    if not intact:
        counts["restored"] = heartbeats.add_missing(missing, now, current.max_customers_per_mitra)
    else:
        overdue_before = _at(now) - timeout
        overdue = [
            (m, since) for m in missing if (since := online[m]) is None or since < overdue_before
        ]
        with db.transaction() as connection:
            lost = presence_transitions.go_offline_if_unchanged(
                connection, overdue, "heartbeat_timeout"
            )
            session_store.mark_orphaned(connection, lost)
        _announce_offline(lost, "heartbeat_timeout")
        counts["lost"] = len(lost)

    extra = {m: score for m, score in in_valkey.items() if m not in online}
    if extra:
        with db.read() as connection:
            # Re-read: a mitra that went online after the first read is in both by now.
            still_online = mitras.online_among(connection, _valid_ids(list(extra)))
        counts["dropped"] = heartbeats.forget_unchanged(
            {m: score for m, score in extra.items() if m not in still_online}
        )

    counts["available_fixed"] = heartbeats.sync_available(
        set(heartbeats.members()) | set(heartbeats.available_members()),
        current.max_customers_per_mitra,
    )
    heartbeats.mark_intact()
    return counts


def _reconcile_load() -> dict[str, int]:
    """`presence:load` follows active sessions. Too low is fixed at once (it could let a
    mitra exceed capacity); too high only when the same surplus outlived a whole sweep
    interval, because a claim in flight has Valkey ahead of PostgreSQL for milliseconds."""
    seen = heartbeats.loads()
    with db.read() as connection:
        truth = mitras.active_session_counts(connection)
    suspected = heartbeats.load_suspects()
    changes: list[tuple[str, str, str]] = []
    suspects: dict[str, str] = {}
    for mitra_id in seen.keys() | truth.keys():
        held, want = int(seen.get(mitra_id) or 0), truth.get(mitra_id, 0)
        if held == want:
            continue
        mark = f"{held}>{want}"
        if held < want or suspected.get(mitra_id) == mark:
            changes.append((mitra_id, seen.get(mitra_id, ""), str(want) if want else ""))
        else:
            suspects[mitra_id] = mark
    fixed = heartbeats.fix_loads(changes)
    heartbeats.replace_load_suspects(suspects)
    return {"load_fixed": fixed, "load_suspect": len(suspects)}


def _reconcile_capacity() -> int:
    seen = heartbeats.capacities()
    with db.read() as connection:
        truth = {m: str(n) for m, n in mitras.capacity_overrides(connection).items()}
    changes = [
        (mitra_id, seen.get(mitra_id, ""), truth.get(mitra_id, ""))
        for mitra_id in seen.keys() | truth.keys()
        if seen.get(mitra_id) != truth.get(mitra_id)
    ]
    return heartbeats.fix_capacities(changes)


def _take_offline(mitra_ids: list[str], reason: Reason) -> list[str]:
    if not mitra_ids:
        return []
    with db.transaction() as connection:
        changed = presence_transitions.go_offline(connection, mitra_ids, reason)
        session_store.mark_orphaned(connection, changed)
    _announce_offline(changed, reason)
    return changed


def _announce_offline(mitra_ids: list[str], reason: Reason) -> None:
    if not mitra_ids:
        return
    pubsub.publish_all(
        (
            events.channel("mitra", mitra_id),
            events.envelope("presence.offline", {"reason": reason}),
        )
        for mitra_id in mitra_ids
    )
    if reason == "heartbeat_timeout":
        # Auto-offline: the mitra's phone is told (push), since its app is likely closed.
        domain_events.emit("presence.offline", {"mitra_ids": mitra_ids, "reason": reason})


def _valid_ids(members: list[str]) -> list[str]:
    """Members that are mitra ids; anything else in the set is logged and skipped rather
    than failing a whole batch's SQL."""
    valid = []
    for member in members:
        try:
            valid.append(str(UUID(member)))
        except ValueError:
            log_event(logger, 30, "ignored a heartbeat member that is not a mitra id")
    return valid
