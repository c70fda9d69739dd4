"""The whole data model of the first phase.

The product's guarantees are constraints here, so they hold whatever the code does:
one active session per client, one open pairing request per client, one session per
pairing request, one current mitra per session, ledger entries unique per reference,
one Xendit invoice per payment, an append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE clients (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        firebase_uid     text NOT NULL UNIQUE,
        display_name     text NOT NULL CHECK (char_length(display_name) BETWEEN 2 AND 32),
        registered       boolean NOT NULL DEFAULT false,
        sign_in_provider text NOT NULL,
        phone            text,
        email            text,
        status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        registered_at    timestamptz
    );
    CREATE INDEX clients_display_name_idx ON clients (lower(display_name) text_pattern_ops);
    CREATE INDEX clients_phone_idx ON clients (phone) WHERE phone IS NOT NULL;
    CREATE INDEX clients_created_idx ON clients (created_at DESC, id DESC);

    CREATE TABLE mitras (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name          text NOT NULL CHECK (char_length(name) BETWEEN 2 AND 64),
        phone         text NOT NULL UNIQUE CHECK (phone ~ '^\\+[1-9][0-9]{6,14}$'),
        photo_url     text,
        firebase_uid  text UNIQUE,
        status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        max_customers integer CHECK (max_customers BETWEEN 1 AND 50),
        is_online     boolean NOT NULL DEFAULT false,
        online_since  timestamptz,
        last_login_at timestamptz,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX mitras_name_idx ON mitras (lower(name) text_pattern_ops);
    CREATE INDEX mitras_online_idx ON mitras (id) WHERE is_online;
    CREATE INDEX mitras_created_idx ON mitras (created_at DESC, id DESC);

    CREATE TABLE operators (
        id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email               text NOT NULL,
        password_hash       text NOT NULL,
        role                text NOT NULL CHECK (role IN ('superadmin', 'admin', 'viewer')),
        status              text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'suspended')),
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        last_login_at       timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX operators_email_key ON operators (lower(email));

    -- Failed logins per email (hashed, so the table holds no addresses); the lockout
    -- counts rows in a window, for known and unknown emails alike.
    CREATE TABLE operator_login_failures (
        id           bigserial PRIMARY KEY,
        email_digest text NOT NULL,
        failed_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX operator_login_failures_idx ON operator_login_failures (email_digest, failed_at);

    -- Operator settings, versioned: the current settings are the highest version.
    CREATE TABLE settings_versions (
        version     bigserial PRIMARY KEY,
        settings    jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        created_by  uuid REFERENCES operators (id)
    );
    INSERT INTO settings_versions (settings) VALUES ('{
        "anonymity": {"show_client_display_name": true,
                      "show_mitra_name": true,
                      "show_mitra_photo": true},
        "max_customers_per_mitra": 3,
        "heartbeat_interval_s": 20,
        "heartbeat_timeout_s": 60,
        "search_window_s": 60,
        "trial_sessions": 1,
        "orphan_action": "alert",
        "orphan_grace_s": 120
    }');

    CREATE TABLE mitra_online_log (
        id          bigserial PRIMARY KEY,
        mitra_id    uuid NOT NULL REFERENCES mitras (id),
        status      text NOT NULL CHECK (status IN ('online', 'offline')),
        reason      text NOT NULL CHECK (reason IN ('manual', 'heartbeat_timeout',
                                                    'admin_forced', 'logout', 'suspended')),
        operator_id uuid REFERENCES operators (id),
        at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX mitra_online_log_mitra_idx ON mitra_online_log (mitra_id, at DESC, id DESC);
    CREATE INDEX mitra_online_log_at_idx ON mitra_online_log (at DESC, id DESC);

    CREATE TABLE sessions (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id          uuid NOT NULL REFERENCES clients (id),
        mitra_id           uuid NOT NULL REFERENCES mitras (id),
        status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
        started_at         timestamptz NOT NULL DEFAULT now(),
        ended_at           timestamptz,
        ended_by           text CHECK (ended_by IN ('client', 'mitra', 'operator', 'system')),
        end_reason         text CHECK (char_length(end_reason) <= 500),
        ended_by_operator  uuid REFERENCES operators (id),
        -- Set when the current mitra went offline while the session was active.
        orphaned_at        timestamptz,
        orphan_handled_at  timestamptz,
        CHECK ((status = 'ended') = (ended_at IS NOT NULL)),
        CHECK ((status = 'ended') = (ended_by IS NOT NULL))
    );
    CREATE UNIQUE INDEX sessions_one_active_per_client ON sessions (client_id)
        WHERE status = 'active';
    CREATE INDEX sessions_active_by_mitra ON sessions (mitra_id) WHERE status = 'active';
    CREATE INDEX sessions_orphaned ON sessions (orphaned_at)
        WHERE status = 'active' AND orphaned_at IS NOT NULL;
    CREATE INDEX sessions_client_idx ON sessions (client_id, started_at DESC, id DESC);
    CREATE INDEX sessions_mitra_idx ON sessions (mitra_id, started_at DESC, id DESC);
    CREATE INDEX sessions_started_idx ON sessions (started_at DESC, id DESC);

    -- Every mitra a session had; the open row (unassigned_at IS NULL) is the current one.
    CREATE TABLE session_assignments (
        id            bigserial PRIMARY KEY,
        session_id    uuid NOT NULL REFERENCES sessions (id),
        mitra_id      uuid NOT NULL REFERENCES mitras (id),
        assigned_at   timestamptz NOT NULL DEFAULT now(),
        unassigned_at timestamptz,
        reason        text NOT NULL DEFAULT 'matched'
                           CHECK (reason IN ('matched', 'rerouted', 'reblast'))
    );
    CREATE UNIQUE INDEX session_assignments_one_current ON session_assignments (session_id)
        WHERE unassigned_at IS NULL;
    CREATE INDEX session_assignments_session_idx ON session_assignments (session_id, assigned_at);

    CREATE TABLE pairing_requests (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id        uuid NOT NULL REFERENCES clients (id),
        status           text NOT NULL CHECK (status IN ('searching', 'matched', 'expired',
                                                         'cancelled', 'no_bestie')),
        -- A reroute re-blast moves an existing session instead of starting one.
        reroute_session  uuid REFERENCES sessions (id),
        idempotency_key  text,
        offered_count    integer NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT now(),
        expires_at       timestamptz NOT NULL,
        closed_at        timestamptz,
        session_id       uuid REFERENCES sessions (id),
        matched_mitra_id uuid REFERENCES mitras (id),
        time_to_match_ms integer CHECK (time_to_match_ms >= 0),
        CHECK ((status = 'searching') = (closed_at IS NULL)),
        CHECK ((status = 'matched') = (session_id IS NOT NULL))
    );
    CREATE UNIQUE INDEX pairing_requests_one_open_per_client ON pairing_requests (client_id)
        WHERE status = 'searching';
    CREATE UNIQUE INDEX pairing_requests_idempotency
        ON pairing_requests (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE UNIQUE INDEX pairing_requests_one_match_per_session ON pairing_requests (session_id)
        WHERE reroute_session IS NULL AND session_id IS NOT NULL;
    CREATE INDEX pairing_requests_created_idx ON pairing_requests (created_at);
    CREATE INDEX pairing_requests_searching_idx ON pairing_requests (expires_at)
        WHERE status = 'searching';
    CREATE INDEX pairing_requests_client_idx ON pairing_requests (client_id, created_at DESC);

    CREATE TABLE pairing_offers (
        request_id  uuid NOT NULL REFERENCES pairing_requests (id),
        mitra_id    uuid NOT NULL REFERENCES mitras (id),
        offered_at  timestamptz NOT NULL DEFAULT now(),
        declined_at timestamptz,
        PRIMARY KEY (request_id, mitra_id)
    );
    CREATE INDEX pairing_offers_mitra_idx ON pairing_offers (mitra_id, offered_at DESC);

    CREATE TABLE packages (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
        sessions   integer NOT NULL CHECK (sessions BETWEEN 1 AND 100),
        price      bigint NOT NULL CHECK (price >= 0),
        currency   text NOT NULL DEFAULT 'IDR' CHECK (currency = 'IDR'),
        active     boolean NOT NULL DEFAULT true,
        sort_order integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE payments (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id         uuid NOT NULL REFERENCES clients (id),
        package_id        uuid NOT NULL REFERENCES packages (id),
        sessions          integer NOT NULL CHECK (sessions > 0),
        amount            bigint NOT NULL CHECK (amount >= 0),
        currency          text NOT NULL,
        status            text NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'paid', 'expired', 'failed')),
        idempotency_key   text,
        xendit_invoice_id text UNIQUE,
        invoice_url       text,
        expires_at        timestamptz,
        paid_at           timestamptz,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX payments_idempotency ON payments (client_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX payments_client_idx ON payments (client_id, created_at DESC);

    -- Every webhook delivery, handled or not (personal fields stripped before storing).
    CREATE TABLE payment_webhook_events (
        id          bigserial PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        external_id text,
        invoice_id  text,
        status      text,
        amount      numeric,
        currency    text,
        outcome     text NOT NULL CHECK (outcome IN ('credited', 'duplicate', 'expired',
                                                     'mismatch', 'unknown_payment', 'ignored')),
        payload     jsonb NOT NULL
    );
    CREATE INDEX payment_webhook_events_external_idx ON payment_webhook_events (external_id);

    -- The balance is the sum of the ledger; each entry's reference makes retries harmless.
    -- bucket 'trial' holds free sessions, 'credit' bought ones.
    CREATE TABLE credit_ledger (
        id         bigserial PRIMARY KEY,
        client_id  uuid NOT NULL REFERENCES clients (id),
        bucket     text NOT NULL CHECK (bucket IN ('trial', 'credit')),
        kind       text NOT NULL CHECK (kind IN ('grant', 'purchase', 'consumption', 'refund')),
        sessions   integer NOT NULL CHECK (sessions <> 0),
        reference  text NOT NULL UNIQUE,
        payment_id uuid REFERENCES payments (id),
        session_id uuid REFERENCES sessions (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'consumption') = (sessions < 0))
    );
    CREATE INDEX credit_ledger_client_idx ON credit_ledger (client_id);

    CREATE TABLE audit_log (
        id          bigserial PRIMARY KEY,
        operator_id uuid REFERENCES operators (id),
        action      text NOT NULL,
        target_type text NOT NULL,
        target_id   text,
        before      jsonb,
        after       jsonb,
        at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
    CREATE INDEX audit_log_operator_idx ON audit_log (operator_id, at DESC);

    CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
    END $$;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

    CREATE FUNCTION credit_ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'credit_ledger is append-only';
    END $$;
    CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON credit_ledger
        FOR EACH STATEMENT EXECUTE FUNCTION credit_ledger_is_append_only();

    CREATE TABLE sweeper_runs (
        id          bigserial PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT now(),
        status      text NOT NULL CHECK (status IN ('ok', 'failed')),
        summary     jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX sweeper_runs_finished_idx ON sweeper_runs (finished_at DESC);
    """)


def downgrade() -> None:
    raise NotImplementedError("forward-only: restore from backup instead")
