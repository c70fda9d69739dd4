"""Readiness of PostgreSQL, Valkey and the sweeper."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.identity.operators import VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.operations import ReadinessOut
from shared.web import Call, Reply

if TYPE_CHECKING:
    from shared.domain import health
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    health = lazy_module("shared.domain.health")


@api.get("/api/admin/health", auth=VIEWER, response=ReadinessOut, also={503: ReadinessOut})
def get_health(call: Call[OperatorCaller]) -> ReadinessOut | Reply:
    """Readiness: PostgreSQL, Valkey and the sweeper's last run, each ok/degraded/down;
    503 (same body) when a store is down."""
    readiness = health.readiness()
    out = ReadinessOut.of(readiness)
    return Reply(out, status=503) if readiness.status == "down" else out
