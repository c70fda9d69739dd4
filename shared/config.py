"""Process configuration from environment variables (12-factor).

Deployment-time facts only: where the stores are, secrets, sizing. Operator-editable
product settings (search window, trial sessions, …) live in PostgreSQL and are read through
`shared.domain.settings`.

Every setting is a scalar named by its environment variable (case-insensitive), validated by
pydantic at start. A pydantic model reads the environment itself rather than through
pydantic-settings: for scalars that library only looks the names up, yet importing it (its
.env, secrets-directory and cloud-provider sources) cost ≈ 40 ms of every function's cold
start (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)


def _parses_as_rate(value: str) -> str:
    # shared.local_rate reads the common notation without importing `limits` (cold
    # start) and hands anything else to `limits`, which raises ValueError if it cannot.
    from shared.local_rate import parse

    parse(value)
    return value


# A per-caller rate limit in `limits` notation ("10/minute;60/hour"): declaring a setting
# with this type is what gets it checked at start, so no list of names can miss one.
RateLimit = Annotated[str, AfterValidator(_parses_as_rate)]


class Config(BaseModel):
    """`Config()` is the environment's configuration; `Config(name=value)` the same with
    those settings given instead (tests)."""

    # Defaults are validated too, as pydantic-settings did: a default rate must parse.
    model_config = ConfigDict(extra="ignore", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        # Environment variables are strings; pydantic's lax mode reads "5", "0.5", "true"
        # and the like into the fields' types, as it did behind pydantic-settings.
        environment = {name.lower(): value for name, value in os.environ.items()}
        found = {name: environment[name] for name in cls.model_fields if name in environment}
        return {**found, **given} if isinstance(given, dict) else given

    # Relational store: either a URL (local, tests) or a Cloud SQL instance connection name.
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL, e.g. postgresql+pg8000://user@host/halo"
    )
    cloud_sql_instance: str | None = Field(
        default=None, description="project:region:instance; selects the Cloud SQL connector"
    )
    db_name: str = Field(default="halo", description="database name behind CLOUD_SQL_INSTANCE")
    db_iam_user: str | None = Field(default=None, description="IAM database user (SA email)")
    db_pool_size: int = Field(default=3, ge=1, le=50, description="pooled connections")
    db_pool_overflow: int = Field(default=2, ge=0, le=50, description="extra connections")
    db_statement_timeout_ms: int = Field(default=5000, ge=100, description="per statement")
    db_pool_timeout_s: float = Field(
        default=10.0, gt=0, description="how long a request queues for a pooled connection"
    )

    # Requests served at once by this process: gunicorn's thread count, which the
    # deployment sets from the catalogue's `sizing.threads` (functions-framework reads it).
    threads: int = Field(default=8, ge=1, description="concurrent requests in this process")

    valkey_url: str = Field(default="redis://127.0.0.1:6379/0", description="Valkey/Redis URL")
    valkey_max_connections: int = Field(
        default=50, ge=2, description="upper bound of the pool; the pool is min(THREADS + 2, this)"
    )
    valkey_pool_timeout_s: float = Field(
        default=5.0, gt=0, description="how long a request queues for a pooled connection"
    )
    valkey_timeout_s: float = Field(default=2.0, gt=0, description="socket timeout")
    # TLS to Valkey (Memorystore in-transit encryption): a rediss:// URL turns it on; the
    # server CA comes as PEM text (Terraform passes the instance's managed CA) or a file.
    valkey_ca_pem: str | None = Field(
        default=None, description="PEM of the Valkey server CA(s) for rediss:// URLs"
    )
    valkey_ca_cert: str | None = Field(
        default=None, description="path of a PEM file with the Valkey server CA(s)"
    )
    valkey_tls_check_hostname: bool = Field(
        default=False,
        description="also match the server certificate's name against the URL's host",
    )

    @property
    def valkey_pool_size(self) -> int:
        """One connection per request thread, plus the event hub's pub/sub connection and
        its delivery look-ups; capped, because on one CPU more connections buy nothing (a
        command takes well under a millisecond, so a queued request waits that long)."""
        return max(2, min(self.threads + 2, self.valkey_max_connections))

    firebase_project_id: str = Field(default="demo-halo-bestie", description="Firebase project")
    firebase_auth_emulator_host: str | None = Field(
        default=None, description="host:port of the Auth emulator (local and tests only)"
    )

    operator_token_secret: SecretStr = Field(
        default=SecretStr(""), description="HMAC key for operator tokens (Secret Manager)"
    )
    operator_token_ttl_s: int = Field(default=8 * 3600, ge=60, description="token lifetime")

    xendit_api_key: SecretStr = Field(default=SecretStr(""), description="Xendit secret key")
    xendit_callback_token: SecretStr = Field(
        default=SecretStr(""), description="Xendit webhook verification token"
    )
    xendit_api_base: str = Field(default="https://api.xendit.co", description="Xendit API host")

    events_topic: str | None = Field(
        default=None, description="Pub/Sub topic for domain events; unset = logged no-op"
    )
    events_local_endpoint: str | None = Field(
        default=None,
        description="local stack/tests only: POST each domain event as a Pub/Sub-shaped "
        "CloudEvent to this URL (the notifier), from a background thread",
    )
    pubsub_emulator_host: str | None = Field(
        default=None,
        description="host:port of the Pub/Sub emulator; the SDK reads it too (local only)",
    )
    fcm_api_base: str = Field(
        default="https://fcm.googleapis.com",
        description="FCM HTTP v1 host; a loopback URL (the stand-in) uses a static local token",
    )
    google_cloud_project: str | None = Field(default=None, description="GCP project id")
    sweeper_scheduler_job: str | None = Field(
        default=None, description="full Cloud Scheduler job name, for sweeper health"
    )

    reconcile_margin_s: int = Field(
        default=600, ge=0, description="wait this long past an invoice's expiry for its webhook"
    )
    reconcile_batch: int = Field(
        default=20, ge=1, le=500, description="payments asked of Xendit per sweep, at most"
    )
    session_timeout_batch: int = Field(
        default=100, ge=1, le=1000, description="overdue sessions ended per sweep, at most"
    )

    # The control center's dashboard stream (docs/control-center.md).
    dashboard_tick_s: float = Field(
        default=1.0, gt=0, description="how often an admin process recomputes the dashboard"
    )
    dashboard_max_silence_s: float = Field(
        default=5.0, gt=0, description="an unchanged dashboard is re-sent after this long"
    )

    settings_cache_s: float = Field(
        default=5.0, ge=0, description="max staleness of operator settings in a process"
    )
    log_level: str = Field(default="INFO", description="root log level")

    # Browser access (docs/control-center.md, "Browser access"). Comma-separated origins
    # (scheme://host[:port]); empty = no browser may call that audience.
    cors_admin_origins: str = Field(
        default="", description="origins allowed to call the admin API (the control center)"
    )
    cors_public_origins: str = Field(
        default="", description="origins allowed to call the public API; '*' = any origin"
    )
    cors_max_age_s: int = Field(default=600, ge=0, le=7200, description="preflight cache")
    stream_ticket_ttl_s: int = Field(
        default=30, ge=5, le=60, description="lifetime of a single-use stream ticket"
    )
    stream_ticket_rate: RateLimit = Field(
        default="30/minute", description="stream tickets per caller (limits notation)"
    )
    stream_recheck_s: float = Field(
        default=20.0, gt=0, le=25, description="how often an open stream re-checks its caller"
    )
    # Event streams (shared/web/sse.py, docs/pairing.md "Event streams").
    sse_keepalive_s: float = Field(
        default=15.0, gt=0, le=60, description="keep-alive comment after this much silence"
    )
    sse_max_stream_s: float = Field(
        default=3300.0,
        gt=0,
        description="a stream ends after this long, before Cloud Run's request timeout",
    )
    sse_blocking_threads: int = Field(
        default=8,
        ge=1,
        le=64,
        description="threads of the events function for blocking work (auth, SQL snapshots)",
    )
    environment: str = Field(default="production", description="production | dev | test")
    # In-session chat (docs/chat.md).
    chat_keys: SecretStr = Field(
        default=SecretStr(""),
        description="chat keyring kid:base64key[,kid:base64key…], 32-byte keys (Secret Manager)",
    )
    chat_active_key_id: str = Field(
        default="", description="the CHAT_KEYS key new messages use; unset = the last one"
    )
    chat_send_rate: RateLimit = Field(
        default="5/second;60/minute", description="messages per sender (limits notation)"
    )
    chat_typing_rate: RateLimit = Field(
        default="1/second;30/minute", description="typing signals per sender (limits notation)"
    )
    chat_push_window_s: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="at most one new-message push per recipient and session in this window",
    )

    # Per-caller rate limits (`limits` notation); more → 429 rate_limited with Retry-After.
    pairing_request_rate: RateLimit = Field(
        default="20/minute;200/hour", description="pairing requests per client"
    )
    payment_create_rate: RateLimit = Field(
        default="10/minute;60/hour", description="payment creations per client"
    )
    operator_login_email_rate: RateLimit = Field(
        default="30/minute;300/hour", description="operator login attempts per email"
    )
    operator_login_source_rate: RateLimit = Field(
        default="60/minute;600/hour", description="operator login attempts per source address"
    )
    heartbeat_rate: RateLimit = Field(
        default="10/minute", description="heartbeats per mitra per instance (in memory)"
    )

    revocation_check_s: int = Field(
        default=240,
        ge=1,
        le=3600,
        description="how often a seen Firebase uid is re-checked for disabled/deleted",
    )
    revocation_check_batch: int = Field(
        default=5000, ge=1, le=100000, description="uids checked with Firebase per sweeper run"
    )

    retention_batch_rows: int = Field(
        default=1000, ge=1, le=10000, description="rows deleted per retention batch"
    )
    retention_max_batches: int = Field(
        default=10, ge=1, le=1000, description="retention batches per kind per sweeper run"
    )

    @field_validator("cors_admin_origins", "cors_public_origins")
    @classmethod
    def _origins_are_origins(cls, value: str, info: ValidationInfo) -> str:
        for origin in split_origins(value):
            if origin == "*":
                if info.field_name == "cors_admin_origins":
                    # Operators hold powerful tokens: never let any page on the web call.
                    raise ValueError("'*' is never allowed for the admin API; list origins")
                continue
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
        return value

    def cors_origins(self, audience: str) -> frozenset[str]:
        raw = self.cors_admin_origins if audience == "admin" else self.cors_public_origins
        return frozenset(split_origins(raw))


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def split_origins(raw: str) -> list[str]:
    return [part.strip().rstrip("/") for part in raw.split(",") if part.strip()]


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process's configuration, read once; tests call `get_config.cache_clear()`."""
    return Config()
