"""The audit log of every operator write."""

from __future__ import annotations

from functions.admin.api import api
from shared.domain import audit
from shared.identity.operators import ADMIN, OperatorCaller
from shared.schemas.admin.audit import AuditOut, AuditPage, AuditQuery
from shared.web import Call
from shared.web.pagination import page_of


@api.get("/api/admin/audit-logs", auth=ADMIN, query=AuditQuery, response=AuditPage)
def audit_logs(call: Call[OperatorCaller, None, AuditQuery]) -> AuditPage:
    """Every operator write, newest first."""
    query = call.query
    rows = audit.entries(
        at_from=query.at_from,
        at_to=query.at_to,
        operator_id=query.admin_id,
        target_type=query.target_type,
        target_id=query.target_id,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(AuditPage, rows, query.limit, lambda row: (row.at, row.id), AuditOut.of)
