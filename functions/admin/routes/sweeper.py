"""The sweeper's last run and its Cloud Scheduler job."""

from __future__ import annotations

from functions.admin.api import api
from shared.domain import sweeper_health
from shared.identity.operators import VIEWER, OperatorCaller
from shared.schemas.admin.sweeper import SweeperHealthOut
from shared.web import Call


@api.get("/api/admin/sweeper", auth=VIEWER, response=SweeperHealthOut)
def get_sweeper_health(call: Call[OperatorCaller]) -> SweeperHealthOut:
    """The sweeper's last run and, in GCP, its Cloud Scheduler job."""
    return SweeperHealthOut.of(sweeper_health.health())
