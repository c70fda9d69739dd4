"""The `chat_messages` and `chat_reads` tables (migration 0007).

Text is stored only as AES-GCM ciphertext (shared.chat_crypto); this module moves bytes and
never sees plaintext. `erase_client_messages` and `delete_messages_older_than` are the hooks
account deletion and retention call (shared.domain.accounts / the sweeper).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection
else:
    sa = lazy_module("sqlalchemy")


COLUMNS = (
    "id, session_id, seq, sender, sender_id, client_message_id, key_id, nonce, ciphertext,"
    " sent_at, erased_at"
)


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: UUID
    session_id: UUID
    seq: int
    sender: str
    sender_id: UUID
    client_message_id: str
    key_id: str | None
    nonce: bytes | None
    ciphertext: bytes | None
    sent_at: datetime
    erased_at: datetime | None


def _row(result: sa.Row | None) -> MessageRow | None:
    if result is None:
        return None
    values = dict(result._mapping)
    for name in ("nonce", "ciphertext"):
        if values[name] is not None:
            values[name] = bytes(values[name])
    return MessageRow(**values)


@dataclass(frozen=True, slots=True)
class Slot:
    """A session locked for one send: its participants now and the seq the message gets."""

    client_id: UUID
    mitra_id: UUID
    status: str
    seq: int


def take_slot(connection: Connection, session_id: UUID, max_messages: int) -> Slot | None:
    """Count one more message on an active session below its limit, holding the session
    row's lock until the transaction ends (so sends in one session commit in seq order);
    None when the session is not active or full (the caller tells which)."""
    found = connection.execute(
        sa.text(
            "UPDATE sessions SET message_count = message_count + 1"
            " WHERE id = :id AND status = 'active' AND message_count < :max"
            " RETURNING client_id, mitra_id, status, message_count AS seq"
        ),
        {"id": session_id, "max": max_messages},
    ).one_or_none()
    return Slot(**found._mapping) if found is not None else None


def by_retry_key(
    connection: Connection,
    session_id: UUID,
    sender: str,
    sender_id: UUID,
    client_message_id: str,
) -> MessageRow | None:
    return _row(
        connection.execute(
            sa.text(
                f"SELECT {COLUMNS} FROM chat_messages WHERE session_id = :session_id"
                " AND sender = :sender AND sender_id = :sender_id"
                " AND client_message_id = :cmid"
            ),
            {
                "session_id": session_id,
                "sender": sender,
                "sender_id": sender_id,
                "cmid": client_message_id,
            },
        ).one_or_none()
    )


def by_id(connection: Connection, message_id: UUID) -> MessageRow | None:
    return _row(
        connection.execute(
            sa.text(f"SELECT {COLUMNS} FROM chat_messages WHERE id = :id"), {"id": message_id}
        ).one_or_none()
    )


def insert(
    connection: Connection,
    *,
    message_id: UUID,
    session_id: UUID,
    seq: int,
    sender: str,
    sender_id: UUID,
    client_message_id: str,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
) -> MessageRow:
    result = connection.execute(
        sa.text(
            "INSERT INTO chat_messages (id, session_id, seq, sender, sender_id,"
            " client_message_id, key_id, nonce, ciphertext)"
            " VALUES (:id, :session_id, :seq, :sender, :sender_id, :cmid, :key_id, :nonce,"
            f" :ciphertext) RETURNING {COLUMNS}"
        ),
        {
            "id": message_id,
            "session_id": session_id,
            "seq": seq,
            "sender": sender,
            "sender_id": sender_id,
            "cmid": client_message_id,
            "key_id": key_id,
            "nonce": nonce,
            "ciphertext": ciphertext,
        },
    ).one()
    row = _row(result)
    assert row is not None
    return row


def page(
    connection: Connection,
    session_id: UUID,
    *,
    before_seq: int | None,
    after_seq: int | None,
    visible_from: datetime | None,
    limit: int,
) -> list[MessageRow]:
    """Newest first below `before_seq`, or oldest first above `after_seq` (a catch-up read);
    only messages sent at or after `visible_from` when given (reroute continuity)."""
    ascending = after_seq is not None
    rows = connection.execute(
        sa.text(
            f"""
            SELECT {COLUMNS} FROM chat_messages
             WHERE session_id = :session_id
               AND (CAST(:before AS integer) IS NULL OR seq < :before)
               AND (CAST(:after AS integer) IS NULL OR seq > :after)
               AND (CAST(:visible_from AS timestamptz) IS NULL OR sent_at >= :visible_from)
             ORDER BY seq {"ASC" if ascending else "DESC"} LIMIT :limit
            """
        ),
        {
            "session_id": session_id,
            "before": before_seq,
            "after": after_seq,
            "visible_from": visible_from,
            "limit": limit,
        },
    )
    return [row for row in (_row(r) for r in rows) if row is not None]


def mark_read(connection: Connection, session_id: UUID, reader: str, up_to_seq: int) -> bool:
    """Move the reader's mark forward (never back); whether it moved."""
    moved = connection.execute(
        sa.text(
            """
            INSERT INTO chat_reads (session_id, reader, up_to_seq) VALUES (:s, :r, :seq)
            ON CONFLICT (session_id, reader) DO UPDATE
               SET up_to_seq = EXCLUDED.up_to_seq, read_at = now()
             WHERE EXCLUDED.up_to_seq > chat_reads.up_to_seq
            RETURNING up_to_seq
            """
        ),
        {"s": session_id, "r": reader, "seq": up_to_seq},
    ).one_or_none()
    return moved is not None


# -- privacy hooks (account deletion, retention) --------------------------------------------


def erase_client_messages(connection: Connection, client_id: UUID | str) -> int:
    """Erase the text of every message (both sides') in the sessions this client took part
    in: the ciphertext, its nonce and key id are removed, `erased_at` is set, and the rows
    keep only who sent when. Returns the number of messages erased (0 on a repeat)."""
    return connection.execute(
        sa.text(
            "UPDATE chat_messages SET key_id = NULL, nonce = NULL, ciphertext = NULL,"
            " erased_at = now()"
            " WHERE erased_at IS NULL"
            " AND session_id IN (SELECT id FROM sessions WHERE client_id = :client_id)"
        ),
        {"client_id": client_id},
    ).rowcount


def delete_messages_older_than(connection: Connection, cutoff: datetime, limit: int) -> int:
    """Delete at most `limit` messages sent before `cutoff`, oldest first (the retention
    sweep calls it until it returns less than `limit`). Read marks stay: they hold no text."""
    return connection.execute(
        sa.text(
            "DELETE FROM chat_messages WHERE id IN (SELECT id FROM chat_messages"
            " WHERE sent_at < :cutoff ORDER BY sent_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
        ),
        {"cutoff": cutoff, "limit": limit},
    ).rowcount
