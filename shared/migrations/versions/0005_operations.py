"""Operations: operator credit adjustments in the ledger, payment reconciliation, session
time limit.

- `credit_ledger.kind` gains `adjustment` (a superadmin's grant, sessions > 0, or refund,
  sessions < 0), which must name its operator and reason; every other kind keeps its sign
  rule (consumption < 0, the rest > 0). The ledger stays append-only.
- `payments.failure_reason`: why a payment ended `failed` (e.g. Xendit does not know the
  invoice), shown to operators.
- `payment_webhook_events.source`: `webhook` (Xendit called us) or `reconciliation` (the
  sweeper asked Xendit about a payment whose webhook never came). Both go through the same
  settlement code, so both are recorded alike.
- Partial indexes for the two sweeper steps: pending payments by expiry, active sessions by
  start.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- The kind and sign checks of 0001 are unnamed; find them by what they check.
    DO $$
    DECLARE found record;
    BEGIN
        FOR found IN
            SELECT conname FROM pg_constraint
             WHERE conrelid = 'credit_ledger'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%consumption%'
        LOOP
            EXECUTE format('ALTER TABLE credit_ledger DROP CONSTRAINT %I', found.conname);
        END LOOP;
    END $$;

    ALTER TABLE credit_ledger
        ADD COLUMN operator_id uuid REFERENCES operators (id),
        ADD COLUMN reason      text CHECK (char_length(reason) <= 500),
        ADD CONSTRAINT credit_ledger_kind CHECK (
            kind IN ('grant', 'purchase', 'consumption', 'refund', 'adjustment')),
        ADD CONSTRAINT credit_ledger_sign CHECK (
            CASE kind WHEN 'consumption' THEN sessions < 0
                      WHEN 'adjustment' THEN sessions <> 0
                      ELSE sessions > 0 END),
        ADD CONSTRAINT credit_ledger_adjustment_named CHECK (
            kind <> 'adjustment' OR (operator_id IS NOT NULL AND reason IS NOT NULL));

    ALTER TABLE payments
        ADD COLUMN failure_reason text CHECK (char_length(failure_reason) <= 500);
    CREATE INDEX payments_pending_expiry ON payments (expires_at) WHERE status = 'pending';
    CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);

    ALTER TABLE payment_webhook_events
        ADD COLUMN source text NOT NULL DEFAULT 'webhook'
            CHECK (source IN ('webhook', 'reconciliation'));

    CREATE INDEX sessions_active_started ON sessions (started_at) WHERE status = 'active';
    """)


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
