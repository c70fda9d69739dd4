"""Operator edits of the product settings: merged onto the latest version, validated as a
whole (e.g. heartbeat timeout ≥ 2 × interval), stored as a new version with its audit entry
in one transaction, then published to Valkey so every function sees it within
`SETTINGS_CACHE_S` seconds without a redeploy (shared.domain.settings)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import ValidationError

from shared import db
from shared.domain import audit, settings
from shared.domain.settings import ProductSettings, VersionedSettings
from shared.errors import Conflict, InvalidRequest
from shared.store import settings_versions

# A rule that spans fields is reported on the field an operator would change to fix it.
_CROSS_FIELD = "heartbeat_timeout_s"


def update_settings(
    actor_id: UUID, changes: dict[str, Any], expected_version: int | None = None
) -> VersionedSettings:
    """Apply `changes` (any subset of the fields; `anonymity` and `push_templates` may be
    partial). With `expected_version` (the one the operator read), a newer stored version
    refuses the write: two operators editing at once never overwrite each other unseen."""
    if not changes:
        raise InvalidRequest("Send at least one setting to change.", fields=[])
    with db.transaction() as connection:
        settings_versions.lock_for_update(connection)
        version, stored = settings_versions.latest(connection)
        if expected_version is not None and expected_version != version:
            raise Conflict(
                "The settings changed since you read them: reload, then save again.",
                current_version=version,
                your_version=expected_version,
            )
        before = ProductSettings.model_validate(stored)
        merged = before.model_dump(mode="json")
        merged = _merge(merged, changes)
        after = _validated(merged)
        new_version = settings_versions.insert(connection, after.model_dump(mode="json"), actor_id)
        audit.record(
            connection,
            actor_id,
            "settings.update",
            "settings",
            new_version,
            {"version": version, **before.model_dump(mode="json")},
            {"version": new_version, **after.model_dump(mode="json")},
        )
    saved = VersionedSettings(version=new_version, settings=after)
    settings.publish(saved)
    return saved


def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Nested settings (anonymity, push_templates) may be sent in part: merge dicts deeply."""
    merged = dict(current)
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = value
    return merged


def _validated(merged: dict[str, Any]) -> ProductSettings:
    try:
        return ProductSettings.model_validate(merged)
    except ValidationError as exc:
        raise InvalidRequest(
            "Some settings are out of range.",
            fields=[
                {
                    "field": ".".join(str(part) for part in error["loc"]) or _CROSS_FIELD,
                    "error": error["type"],
                    "message": error["msg"],
                }
                for error in exc.errors(include_url=False, include_input=False)
            ],
        ) from None
