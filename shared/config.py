"""Process configuration from environment variables (12-factor).

Deployment-time facts only: where the stores are, secrets, sizing. Operator-editable
product settings (search window, trial sessions, …) live in PostgreSQL and are read through
`shared.domain.settings`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

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
    google_cloud_project: str | None = Field(default=None, description="GCP project id")
    sweeper_scheduler_job: str | None = Field(
        default=None, description="full Cloud Scheduler job name, for sweeper health"
    )

    settings_cache_s: float = Field(
        default=5.0, ge=0, description="max staleness of operator settings in a process"
    )
    log_level: str = Field(default="INFO", description="root log level")
    environment: str = Field(default="production", description="production | dev | test")


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process's configuration, read once; tests call `get_config.cache_clear()`."""
    return Config()
