"""The session time limit: the sweeper step `session_timeouts` ends every session older than
the operators' `session_max_minutes` with end_reason `timeout`, so a session both people
abandoned cannot hold a mitra's capacity forever.

Each end goes through the one end path (`shared.domain.sessions.end`): its conditional
UPDATE is the compare-and-set, so of two sweepers (or a sweeper and a participant) ending
the same session at once exactly one gets the row, gives the mitra's unit back and tells
both sides (`session.ended` on both streams, and the `session.ended` domain event).
"""

from __future__ import annotations

from shared import db, signals
from shared.config import get_config
from shared.domain import sessions, settings
from shared.store import sessions as store

END_REASON = "timeout"


def sweep() -> dict[str, int]:
    """The sweeper's step (shared.domain.sweeper.STEPS): at most `SESSION_TIMEOUT_BATCH`
    sessions per run, oldest first; the rest wait for the next run."""
    max_minutes = settings.current().session_max_minutes
    with db.read() as connection:
        overdue = store.overdue_active(
            connection, max_age_s=max_minutes * 60, limit=get_config().session_timeout_batch
        )
    ended = 0
    for session_id in overdue:
        row = sessions.end(session_id, ended_by="system", reason=END_REASON)
        if row is None:  # someone else ended it first
            continue
        ended += 1
        signals.session_timeout(row.id)
    return {"overdue": len(overdue), "ended": ended}
