"""Retention: the sweeper step `retention` deletes or anonymises personal data past the
operators' retention settings (docs/data.md lists every store and its period).

- mitras' online/offline log: rows older than `retention_online_logs_days` are deleted;
- finished pairing requests: deleted `retention_pairing_requests_days` after they closed;
- ended sessions' details (the free-text end reason): cleared
  `retention_session_details_days` after the end; the row itself stays because the
  credit ledger names it (accounting), and it holds only ids and times;
- chat messages: deleted `retention_session_details_days` after they were sent (they are
  the session's most personal detail);
- the audit log: entries older than `retention_audit_days` are deleted;
- operators' failed logins (email digests behind the lockout, which looks back minutes):
  deleted after 30 days.

Bounded work: at most `RETENTION_MAX_BATCHES` batches of `RETENTION_BATCH_ROWS` rows per kind
per run, each its own short transaction, so a first run over years of history neither holds
locks for long nor outlasts the sweeper's deadline; the rest waits for the next run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import db
from shared.config import get_config
from shared.domain import settings
from shared.store import retention as store

LOGIN_FAILURES_DAYS = 30


def cutoffs(now: datetime | None = None) -> dict[str, datetime]:
    current = settings.current()
    now = now or datetime.now(UTC)
    days = {
        "online_logs": current.retention_online_logs_days,
        "pairing_requests": current.retention_pairing_requests_days,
        "session_details": current.retention_session_details_days,
        "messages": current.retention_session_details_days,
        "audit": current.retention_audit_days,
        "login_failures": LOGIN_FAILURES_DAYS,
    }
    return {kind: now - timedelta(days=days[kind]) for kind in store.KINDS}


def sweep() -> dict[str, int]:
    """The sweeper's step (shared.domain.sweeper.STEPS): rows handled per kind."""
    config = get_config()
    counts: dict[str, int] = {}
    for kind, cutoff in cutoffs().items():
        handled = 0
        for _ in range(config.retention_max_batches):
            with db.transaction() as connection:
                done = store.run_batch(connection, kind, cutoff, config.retention_batch_rows)
            handled += done
            if done < config.retention_batch_rows:
                break
        counts[kind] = handled
    return counts
