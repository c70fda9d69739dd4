"""Operator-editable product settings: versioned in PostgreSQL, read everywhere through a
short in-process cache backed by a Valkey copy, so hot paths normally touch neither
PostgreSQL nor (within the cache window) Valkey.

Staleness is bounded: a change made in the control center is seen by every instance within
`SETTINGS_CACHE_S` seconds (default 5), with no redeploy.
"""

from __future__ import annotations

import threading
import time
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import db
from shared.config import get_config
from shared.domain.push_text import PushTemplates
from shared.store import settings_versions
from shared.store.live import settings as live_settings


class Anonymity(BaseModel):
    """What each side may see of the other. Phone numbers and emails are never shown."""

    model_config = ConfigDict(extra="forbid")

    show_client_display_name: bool = True
    show_mitra_name: bool = True
    show_mitra_photo: bool = True


class ProductSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    anonymity: Anonymity = Anonymity()
    max_customers_per_mitra: int = Field(default=3, ge=1, le=50)
    heartbeat_interval_s: int = Field(default=20, ge=5, le=300)
    heartbeat_timeout_s: int = Field(default=60, ge=10, le=900)
    search_window_s: int = Field(default=60, ge=10, le=600)
    trial_sessions: int = Field(default=1, ge=0, le=10)
    orphan_action: Literal["alert", "reroute"] = "alert"
    orphan_grace_s: int = Field(default=120, ge=0, le=3600)
    # The sweeper ends a session this long after it started (end_reason `timeout`), so a
    # session both people abandoned cannot hold a mitra's capacity forever.
    session_max_minutes: int = Field(default=120, ge=15, le=480)
    # Chat (docs/chat.md): messages one session may hold, and whether the mitra a session
    # was rerouted to sees the conversation before it arrived ("visible": continuity of
    # care) or only its own part ("hidden").
    chat_max_messages_per_session: int = Field(default=5000, ge=10, le=100_000)
    chat_history_after_reroute: Literal["visible", "hidden"] = "visible"
    push_templates: PushTemplates = PushTemplates()
    # Retention (docs/data.md): the sweeper deletes or anonymises rows older than these.
    # A year and a month by default, long enough for yearly reviews and disputes; the audit
    # trail of operators' actions is kept five years.
    retention_online_logs_days: int = Field(default=400, ge=30, le=3650)
    retention_pairing_requests_days: int = Field(default=400, ge=30, le=3650)
    retention_session_details_days: int = Field(default=400, ge=30, le=3650)
    retention_audit_days: int = Field(default=1825, ge=365, le=3650)

    @model_validator(mode="after")
    def _timeout_outlasts_two_heartbeats(self) -> Self:
        # One lost heartbeat must not take a mitra offline.
        if self.heartbeat_timeout_s < 2 * self.heartbeat_interval_s:
            raise ValueError("heartbeat_timeout_s must be at least 2 × heartbeat_interval_s")
        return self


class VersionedSettings(BaseModel):
    version: int
    settings: ProductSettings


_lock = threading.Lock()
_cached: tuple[float, VersionedSettings] | None = None


def current() -> ProductSettings:
    return current_versioned().settings


def current_versioned() -> VersionedSettings:
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached and now - cached[0] < get_config().settings_cache_s:
        return cached[1]
    with _lock:
        loaded = _load()
        _cached = (time.monotonic(), loaded)
        return loaded


def forget_cache() -> None:
    global _cached
    _cached = None


def _load() -> VersionedSettings:
    raw = live_settings.current()
    if raw:
        return VersionedSettings.model_validate_json(raw)
    loaded = _load_from_database()
    # NX: a refill must never overwrite a newer version published meanwhile.
    live_settings.fill(loaded.model_dump_json())
    return loaded


def _load_from_database() -> VersionedSettings:
    with db.read() as connection:
        version, stored = settings_versions.latest(connection)
    return VersionedSettings(version=version, settings=ProductSettings.model_validate(stored))


def publish(saved: VersionedSettings) -> None:
    """Make a just-saved version what every instance reads within the cache window."""
    live_settings.publish(saved.model_dump_json())
    forget_cache()


def save(settings: ProductSettings, operator_id: str | None) -> VersionedSettings:
    """Store a new version and publish it (tests and seeds; operators go through
    shared.domain.admin.settings, which also audits)."""
    with db.transaction() as connection:
        version = settings_versions.insert(
            connection, settings.model_dump(mode="json"), operator_id
        )
    saved = VersionedSettings(version=version, settings=settings)
    publish(saved)
    return saved
