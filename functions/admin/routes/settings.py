"""The operator-editable product settings, versioned (optimistic concurrency)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.errors import Conflict
from shared.identity.operators import ADMIN, VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.settings import SettingsIn, SettingsOut
from shared.web import Call

if TYPE_CHECKING:
    from shared.domain import settings
    from shared.domain.admin import settings as admin_settings
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    settings = lazy_module("shared.domain.settings")
    admin_settings = lazy_module("shared.domain.admin.settings")


@api.get("/api/admin/settings", auth=VIEWER, response=SettingsOut)
def get_settings(call: Call[OperatorCaller]) -> SettingsOut:
    """The current settings and their version."""
    return SettingsOut.of(settings.current_versioned())


@api.put(
    "/api/admin/settings",
    auth=ADMIN,
    body=SettingsIn,
    response=SettingsOut,
    errors=(Conflict,),
)
def put_settings(call: Call[OperatorCaller, SettingsIn]) -> SettingsOut:
    """Save a new settings version (fields left out keep their value); with `version`, only
    if nobody saved another since (else 409 conflict)."""
    caller = call.caller
    changes = call.body.model_dump(exclude_unset=True)
    expected = changes.pop("version", None)
    return SettingsOut.of(admin_settings.update_settings(caller.id, changes, expected))
