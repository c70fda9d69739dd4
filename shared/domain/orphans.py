"""Orphaned sessions: an active session whose mitra went offline (auto-offline, logout,
forced, suspended). Presence marks them (`sessions.orphaned_at`) in the same transaction as
the mitra's offline transition, and clears the mark when the mitra comes back online.

The sweeper step `orphans` handles every session orphaned for longer than `orphan_grace_s`
exactly once — the claim is a conditional UPDATE (`orphan_handled_at IS NULL`, SKIP LOCKED),
so two sweepers at once never handle one twice, and no timer lives in any process's memory:
- `orphan_action = alert`: an `session.orphaned` event on `events:admin:orphans` (and a log
  warning); the dashboard counts and lists the session until it moves or ends;
- `orphan_action = reroute`: a re-blast to the available mitras (`shared.domain.reroute`);
  the client is told (`session.rerouted`, phase `searching`, then `moved`). When nobody can
  be offered it, or the re-blast fails, the operators are alerted instead.
"""

from __future__ import annotations

from typing import Any

from shared import db, events
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
    for session in claimed:
        if current.orphan_action == "reroute" and _reblast(session):
            counts["rerouted"] += 1
        else:
            _alert(session, current.orphan_action)
            counts["alerted"] += 1
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
    events.publish("admin", ALERT_RECIPIENT, "session.orphaned", data)
