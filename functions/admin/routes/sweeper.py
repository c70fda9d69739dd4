"""The sweeper's last run and its Cloud Scheduler job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.identity.operators import VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.sweeper import SweeperHealthOut
from shared.web import Call

if TYPE_CHECKING:
    from shared.domain import sweeper_health
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    sweeper_health = lazy_module("shared.domain.sweeper_health")


@api.get("/api/admin/sweeper", auth=VIEWER, response=SweeperHealthOut)
def get_sweeper_health(call: Call[OperatorCaller]) -> SweeperHealthOut:
    """The sweeper's last run and, in GCP, its Cloud Scheduler job."""
    return SweeperHealthOut.of(sweeper_health.health())
