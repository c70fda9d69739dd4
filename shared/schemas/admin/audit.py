"""Control-center models: the audit log of operator writes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from pydantic import Field

from shared.schemas.common import ResponseModel
from shared.web.pagination import Page, PageQuery

if TYPE_CHECKING:
    from shared.store.audit import AuditRow


class AuditQuery(PageQuery):
    at_from: datetime | None = Field(default=None, alias="from")
    at_to: datetime | None = Field(default=None, alias="to")
    admin_id: UUID | None = None
    target_type: Annotated[str, Field(max_length=32)] | None = None
    target_id: Annotated[str, Field(max_length=64)] | None = None


class AuditOut(ResponseModel):
    id: int
    admin_id: UUID | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime

    @classmethod
    def of(cls, row: AuditRow) -> AuditOut:
        return cls(
            id=row.id,
            admin_id=row.operator_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            before=row.before,
            after=row.after,
            at=row.at,
        )


class AuditPage(Page[AuditOut]):
    pass
