"""Push devices: one row per FCM registration token, owned by one client or one mitra.

The token is unique across accounts: a shared phone that signs into another account moves
its token there (the newer owner is the one holding the phone now). An account keeps at
most 10 devices; registration drops the least recently seen beyond that
(shared.store.devices). The owner is (kind, id) rather than two foreign keys because
every read is "this account's devices" and the registry is rebuilt by the apps anyway.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE devices (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token        text NOT NULL UNIQUE CHECK (char_length(token) BETWEEN 16 AND 1024),
        owner_kind   text NOT NULL CHECK (owner_kind IN ('client', 'mitra')),
        owner_id     uuid NOT NULL,
        platform     text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
        app_version  text NOT NULL CHECK (char_length(app_version) BETWEEN 1 AND 32),
        locale       text NOT NULL CHECK (char_length(locale) BETWEEN 2 AND 35),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX devices_owner_idx ON devices (owner_kind, owner_id, last_seen_at DESC);
    """)


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
