"""Indexes for the control center's dashboard and session list.

- `pairing_requests_day_idx`: the dashboard's day figures (count, no-bestie count, time-to-match
  percentiles of the clients' own presses) read one index range per Asia/Jakarta day, without
  touching the table (the figures' columns are INCLUDEd).
- `sessions_status_started_idx`: the admin session list filtered by status, newest first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE INDEX pairing_requests_day_idx ON pairing_requests (created_at)
        INCLUDE (status, time_to_match_ms) WHERE reroute_session IS NULL;
    CREATE INDEX sessions_status_started_idx ON sessions (status, started_at DESC, id DESC);
    """)


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
