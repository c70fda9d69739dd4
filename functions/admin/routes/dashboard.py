"""The dashboard's figures, and the single-use ticket that opens its stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.errors import RateLimited
from shared.identity import tickets
from shared.identity.operators import VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.dashboard import DashboardOut, DashboardQuery
from shared.schemas.streams import StreamTicketOut
from shared.web import Call, Reply

if TYPE_CHECKING:
    from shared.domain import dashboard
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    dashboard = lazy_module("shared.domain.dashboard")


@api.get("/api/admin/dashboard", auth=VIEWER, query=DashboardQuery, response=DashboardOut)
def get_dashboard(call: Call[OperatorCaller, None, DashboardQuery]) -> DashboardOut:
    """Live figures and the day's figures (`?day=`: another Asia/Jakarta day's figures)."""
    query = call.query
    return DashboardOut.of(dashboard.snapshot(query.day))


@api.post(
    "/api/admin/stream-tickets",
    auth=VIEWER,
    response=StreamTicketOut,
    status=201,
    errors=(RateLimited,),
)
def create_stream_ticket(call: Call[OperatorCaller]) -> Reply:
    """A single-use ticket (≤ 60 s) that opens the dashboard stream as `?ticket=`."""
    # A ticket is a credential: no cache may keep a copy.
    return Reply(StreamTicketOut.of(tickets.issue(call.caller)), 201, {"Cache-Control": "no-store"})
