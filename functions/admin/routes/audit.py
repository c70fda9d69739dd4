"""The audit log of every operator write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.identity.operators import ADMIN, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.audit import AuditOut, AuditPage, AuditQuery
from shared.web import Call
from shared.web.pagination import page_of

if TYPE_CHECKING:
    from shared.domain import audit
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    audit = lazy_module("shared.domain.audit")


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
