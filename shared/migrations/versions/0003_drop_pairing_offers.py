"""Drop `pairing_offers`: pairing no longer records one row per offered mitra.

A request is offered to every mitra available while it searches (docs/pairing.md); who
declined it lives in Valkey for the request's lifetime, and `pairing_requests.offered_count`
keeps how many mitras were available at the blast. Writing a row per offered mitra cost
PostgreSQL work proportional to the number of mitras on every request (docs/capacity.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS pairing_offers")


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
