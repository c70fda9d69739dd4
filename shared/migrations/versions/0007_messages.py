"""In-session chat: messages (text encrypted at rest by the application), read receipts, and
a per-session message counter.

Message text is never stored in the clear: `ciphertext` is AES-256-GCM under the key named by
`key_id` (shared.chat_crypto), with the session id and the message id as associated data, so
a row copied into another session or under another id does not decrypt. Erasure (account
deletion) sets the three crypto columns to NULL and stamps `erased_at`; the row stays so
the other participant's history keeps its shape.

`seq` is the message's position in its session, handed out under the session row's lock
(`sessions.message_count`), so it is also commit order: apps order by it and detect gaps.
The unique key on (session, sender, sender id, client_message_id) makes a retried send
store nothing new.

Revision ID: 0007
Revises: 0005 (in the chat branch; re-chained onto 0006 when merged)
Create Date: 2026-11-30
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE sessions ADD COLUMN message_count integer NOT NULL DEFAULT 0;

    CREATE TABLE chat_messages (
        id                uuid PRIMARY KEY,
        session_id        uuid NOT NULL REFERENCES sessions (id),
        seq               integer NOT NULL CHECK (seq >= 1),
        sender            text NOT NULL CHECK (sender IN ('client', 'mitra')),
        sender_id         uuid NOT NULL,
        client_message_id text NOT NULL CHECK (char_length(client_message_id) BETWEEN 1 AND 64),
        key_id            text CHECK (char_length(key_id) BETWEEN 1 AND 32),
        nonce             bytea,
        ciphertext        bytea,
        sent_at           timestamptz NOT NULL DEFAULT now(),
        erased_at         timestamptz,
        CONSTRAINT chat_messages_seq_unique UNIQUE (session_id, seq),
        CONSTRAINT chat_messages_retry_unique
            UNIQUE (session_id, sender, sender_id, client_message_id),
        CONSTRAINT chat_messages_text_or_erased CHECK (
            (erased_at IS NULL AND key_id IS NOT NULL AND nonce IS NOT NULL
             AND ciphertext IS NOT NULL)
            OR (erased_at IS NOT NULL AND key_id IS NULL AND nonce IS NULL AND ciphertext IS NULL)
        )
    );
    -- Retention deletes the oldest first.
    CREATE INDEX chat_messages_sent_at_idx ON chat_messages (sent_at);

    CREATE TABLE chat_reads (
        session_id uuid NOT NULL REFERENCES sessions (id),
        reader     text NOT NULL CHECK (reader IN ('client', 'mitra')),
        up_to_seq  integer NOT NULL CHECK (up_to_seq >= 1),
        read_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, reader)
    );
    """)


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
