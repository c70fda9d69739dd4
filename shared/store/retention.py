"""Retention batches: each statement deletes (or anonymises) at most `limit` rows older than
a cutoff and says how many. `SKIP LOCKED` lets two sweepers share the work instead of
waiting on each other's rows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.lazy import lazy_module
from shared.store import chat_messages

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


def _delete_oldest(table: str, at: str) -> str:
    """The plain batch: rows older than the cutoff by their own timestamp, oldest first."""
    return f"""
        DELETE FROM {table} WHERE id IN (
            SELECT id FROM {table} WHERE {at} < :cutoff
             ORDER BY {at} LIMIT :limit FOR UPDATE SKIP LOCKED)
    """


_BATCHES: dict[str, str] = {
    "online_logs": _delete_oldest("mitra_online_log", "at"),
    # Finished requests only; nothing references a request (a session does not).
    "pairing_requests": """
        DELETE FROM pairing_requests WHERE id IN (
            SELECT id FROM pairing_requests
             WHERE closed_at < :cutoff AND status <> 'searching'
             ORDER BY closed_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    """,
    # An ended session's row stays (the ledger names it); what either side wrote about it
    # goes.
    "session_details": """
        UPDATE sessions SET end_reason = NULL WHERE id IN (
            SELECT id FROM sessions
             WHERE status = 'ended' AND end_reason IS NOT NULL AND ended_at < :cutoff
             ORDER BY ended_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    """,
    # Lockout counts failures over minutes; a digest older than that serves nothing.
    "login_failures": _delete_oldest("operator_login_failures", "failed_at"),
    "audit": _delete_oldest("audit_log", "at"),
}

# Chat messages: deleted by their own store module, which owns the table.
KINDS = (*_BATCHES, "messages")


def run_batch(connection: Connection, kind: str, cutoff: datetime, limit: int) -> int:
    if kind == "messages":
        return chat_messages.delete_messages_older_than(connection, cutoff, limit)
    if kind == "audit":
        # The one writer besides erasure the append-only trigger admits (migration 0006);
        # SET LOCAL ends with this transaction.
        connection.execute(sa.text("SET LOCAL halo.audit_override = 'on'"))
    result = connection.execute(sa.text(_BATCHES[kind]), {"cutoff": cutoff, "limit": limit})
    return int(result.rowcount or 0)
