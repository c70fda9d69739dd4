"""Orphaned sessions: an active session whose mitra went offline (auto-offline, logout,
forced, suspended). Presence marks them (`sessions.orphaned_at`) in the same transaction as
the mitra's offline transition, and clears the mark when the mitra comes back online.

The sweeper step `orphans` handles every session orphaned for longer than `orphan_grace_s`
exactly once — the claim is a conditional UPDATE (`orphan_handled_at IS NULL`, SKIP LOCKED),
so two sweepers at once never handle one twice, and no timer lives in any process's memory:
- `orphan_action = alert`: a `session.orphaned` event on `events:admin:orphans` (forwarded
  live on the dashboard stream), the same domain event on the events topic, and a log
  warning; the dashboard counts and lists the session until it moves or ends;
Every claimed orphan is counted by the `orphan_detected` / `orphan_handled` log signals
(shared.signals), on which the orphan alert policy is built.
- `orphan_action = reroute`: a re-blast to the available mitras (`shared.domain.reroute`);
  the client is told (`session.rerouted`, phase `searching`, then `moved`). When nobody can
  be offered it, or the re-blast fails, the operators are alerted instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import db, domain_events, events, signals
from shared.domain import reroute, settings
from shared.log import get_logger, log_event
from shared.store import sessions
from shared.store.sessions import SessionRow

ALERT_RECIPIENT = "orphans"  # events:admin:orphans
logger = get_logger("halo.orphans")


def sweep() -> dict[str, int]:
    """The sweeper's orphan step (shared.domain.sweeper.STEPS)."""
    current = settings.current()
    with db.transaction() as connection:
        claimed = sessions.claim_orphans(connection, current.orphan_grace_s)
    counts = {"handled": len(claimed), "alerted": 0, "rerouted": 0}
    now = datetime.now(UTC)
    for session in claimed:
        orphaned_at = session.orphaned_at or now
        signals.orphan_detected(session.id, (now - orphaned_at).total_seconds())
        if current.orphan_action == "reroute" and _reblast(session):
            counts["rerouted"] += 1
            signals.orphan_handled(session.id, "rerouted")
        else:
            _alert(session, current.orphan_action)
            counts["alerted"] += 1
            signals.orphan_handled(
                session.id, "alerted" if current.orphan_action == "alert" else "reroute_failed"
            )
    return counts


def _reblast(session: SessionRow) -> bool:
    try:
        return reroute.reblast(None, session.id).status == "searching"
    except Exception as exc:  # ended meanwhile, already searching, a store's hiccup
        log_event(logger, 30, "orphan re-blast failed", session_id=str(session.id), error=repr(exc))
        return False


def _alert(session: SessionRow, action: str) -> None:
    data: dict[str, Any] = {
        "session_id": str(session.id),
        "client_id": str(session.client_id),
        "mitra_id": str(session.mitra_id),
        "orphaned_at": session.orphaned_at.isoformat() if session.orphaned_at else None,
        "action": action,
        "outcome": "alert" if action == "alert" else "reroute_failed",
    }
    log_event(logger, 30, "orphaned session needs an operator", **data)
    # Live to open control-center dashboards (Valkey pub/sub), and durably to whatever
    # subscribes to the domain-events topic (on-call notification, push).
    events.publish("admin", ALERT_RECIPIENT, "session.orphaned", data)
    domain_events.emit("session.orphaned", data)
