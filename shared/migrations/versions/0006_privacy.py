"""Privacy: account erasure, mitra phone erasure, retention.

- `clients.erased_at`: set when the account was deleted (by the client or an operator). The
  row stays, because payments, the ledger and sessions reference it (accounting must keep
  them), but every personal field is overwritten: `firebase_uid` becomes `erased:<id>` (no
  link to the Firebase user, which is deleted too), display name `Deleted`, phone, email
  and provider cleared.
- `mitras.phone` may be NULL once erased (`phone_erased_at`): a deactivated mitra's history
  stays, their number goes on request. The uniqueness of live numbers is unchanged.
- The audit log stays append-only for every writer except a transaction that sets
  `halo.audit_override = 'on'` (SET LOCAL): the retention sweeper deleting entries past
  their retention, and an erasure scrubbing a phone number out of old entries. Nothing
  else may change it, so the guarantee still holds against ordinary code and accidents.
- Indexes for the retention sweeper's batches.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE clients ADD COLUMN erased_at timestamptz;
    ALTER TABLE mitras ALTER COLUMN phone DROP NOT NULL,
                       ADD COLUMN phone_erased_at timestamptz;

    CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE')
           AND current_setting('halo.audit_override', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only';
    END $$;

    CREATE INDEX sessions_ended_details_idx ON sessions (ended_at)
        WHERE status = 'ended' AND end_reason IS NOT NULL;
    CREATE INDEX pairing_requests_closed_idx ON pairing_requests (closed_at)
        WHERE closed_at IS NOT NULL;
    CREATE INDEX mitra_online_log_at_asc_idx ON mitra_online_log (at);
    """)


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
