"""Control-center models: session management (list, detail, end, reroute)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page, PageQuery

if TYPE_CHECKING:
    from shared.domain.admin.sessions import AdminSessionView
    from shared.store.admin.sessions import StintRow
    from shared.store.pairing import RequestRow


class SessionQuery(PageQuery):
    status: Literal["active", "ended"] | None = None
    mitra_id: UUID | None = Field(default=None, description="the mitra holding it now")
    client_id: UUID | None = None
    started_from: AwareDatetime | None = Field(default=None, alias="from")
    started_to: AwareDatetime | None = Field(default=None, alias="to")
    orphaned: bool | None = None


class AdminSessionClientOut(ResponseModel):
    id: UUID
    display_name: str


class AdminSessionMitraOut(ResponseModel):
    id: UUID
    name: str


class AdminStintOut(ResponseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    mitra_id: UUID
    mitra_name: str
    started: datetime = Field(serialization_alias="from")
    ended: datetime | None = Field(serialization_alias="to")
    reason: Literal["matched", "rerouted", "reblast"]

    @classmethod
    def of(cls, row: StintRow) -> AdminStintOut:
        return cls(
            mitra_id=row.mitra_id,
            mitra_name=row.mitra_name,
            started=row.assigned_at,
            ended=row.unassigned_at,
            reason=row.reason,
        )


class AdminSessionOut(ResponseModel):
    id: UUID
    status: Literal["active", "ended"]
    client: AdminSessionClientOut
    mitra: AdminSessionMitraOut
    started_at: datetime
    ended_at: datetime | None
    ended_by: Literal["client", "mitra", "operator", "system"] | None
    end_reason: str | None
    ended_by_operator: UUID | None
    orphaned_at: datetime | None
    orphan_handled_at: datetime | None
    history: list[AdminStintOut]

    @classmethod
    def of(cls, view: AdminSessionView) -> AdminSessionOut:
        row = view.row
        return cls(
            id=row.id,
            status=row.status,
            client=AdminSessionClientOut(id=row.client_id, display_name=row.client_display_name),
            mitra=AdminSessionMitraOut(id=row.mitra_id, name=row.mitra_name),
            started_at=row.started_at,
            ended_at=row.ended_at,
            ended_by=row.ended_by,
            end_reason=row.end_reason,
            ended_by_operator=row.ended_by_operator,
            orphaned_at=row.orphaned_at,
            orphan_handled_at=row.orphan_handled_at,
            history=[AdminStintOut.of(stint) for stint in view.history],
        )


class AdminSessionPage(Page[AdminSessionOut]):
    pass


class AdminEndIn(RequestModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class RerouteIn(RequestModel):
    mitra_id: UUID | None = Field(
        default=None, description="move to this mitra now; absent: re-blast to available mitras"
    )


class RerouteQueuedOut(ResponseModel):
    """Re-blasted to available mitras: the pairing request the client now waits on."""

    pairing_request_id: UUID
    session_id: UUID
    status: Literal["searching", "no_bestie"]
    offered_to: int
    expires_at: datetime

    @classmethod
    def of(cls, row: RequestRow, session_id: UUID) -> RerouteQueuedOut:
        return cls(
            pairing_request_id=row.id,
            session_id=session_id,
            status=row.status,
            offered_to=row.offered_count,
            expires_at=row.expires_at,
        )
