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

    valkey_url: str = Field(default="redis://127.0.0.1:6379/0", description="Valkey/Redis URL")
    valkey_max_connections: int = Field(default=50, ge=2, description="pool size per process")
    valkey_timeout_s: float = Field(default=2.0, gt=0, description="socket timeout")

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
    fcm_api_base: str = Field(
        default="https://fcm.googleapis.com",
        description="FCM HTTP v1 host; a loopback URL (the stand-in) uses a static local token",
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
