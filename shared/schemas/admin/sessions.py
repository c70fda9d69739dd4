"""Control-center models, part 2: the dashboard, session management, online logs and
sweeper health (the admin section of the contract)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from shared.domain.dashboard import Dashboard
from shared.domain.session_admin import AdminSessionView
from shared.domain.sweeper_health import SweeperHealth
from shared.schemas.common import RequestModel, ResponseModel
from shared.store.dashboard import OrphanRow
from shared.store.online_logs import DurationRow, TransitionRow
from shared.store.pairing import RequestRow
from shared.store.session_admin import StintRow
from shared.web.pagination import Page, PageQuery

# -- dashboard ------------------------------------------------------------------------------


class DashboardQuery(RequestModel):
    day: date | None = Field(
        default=None, description="Asia/Jakarta day of the day figures; today by default"
    )


class MitraCountsOut(ResponseModel):
    online: int = Field(description="fresh heartbeat (within heartbeat_timeout_s)")
    available: int = Field(description="online and below capacity")
    busy: int = Field(description="online and at capacity")


class SessionCountsOut(ResponseModel):
    active: int
    today: int = Field(description="started on the Asia/Jakarta day")
    orphaned: int = Field(description="active, and their mitra went offline")


class TimeToMatchOut(ResponseModel):
    p50: float | None = Field(description="seconds; null when nothing matched that day")
    p90: float | None


class SweeperOut(ResponseModel):
    last_run_at: datetime | None
    status: Literal["ok", "failed", "never"]
    stale: bool = Field(description="no finished run for 180 s")


class OrphanOut(ResponseModel):
    session_id: UUID
    client_id: UUID
    mitra_id: UUID
    orphaned_at: datetime
    handled_at: datetime | None = Field(description="when the sweeper alerted or re-blasted")

    @classmethod
    def of(cls, row: OrphanRow) -> OrphanOut:
        return cls.model_validate(row)


class DashboardOut(ResponseModel):
    mitras: MitraCountsOut
    clients_searching: int
    sessions: SessionCountsOut
    time_to_match_s: TimeToMatchOut
    no_bestie_rate_today: float | None = Field(
        description="no_bestie requests / requests made that day; null when none"
    )
    requests_today: int
    day: date
    orphans: list[OrphanOut] = Field(description="oldest first, at most 50")
    sweeper: SweeperOut
    as_of: datetime

    @classmethod
    def of(cls, board: Dashboard) -> DashboardOut:
        return cls(
            mitras=MitraCountsOut(
                online=board.mitras_online,
                available=board.mitras_available,
                busy=board.mitras_busy,
            ),
            clients_searching=board.clients_searching,
            sessions=SessionCountsOut(
                active=board.sessions_active,
                today=board.sessions_today,
                orphaned=board.sessions_orphaned,
            ),
            time_to_match_s=TimeToMatchOut(
                p50=board.time_to_match_p50_s, p90=board.time_to_match_p90_s
            ),
            no_bestie_rate_today=board.no_bestie_rate_today,
            requests_today=board.requests_today,
            day=board.day,
            orphans=[OrphanOut.of(row) for row in board.orphans],
            sweeper=SweeperOut.model_validate(board.sweeper),
            as_of=board.as_of,
        )


# -- sessions -------------------------------------------------------------------------------


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


# -- online logs ----------------------------------------------------------------------------


class MitraOnlineLogQuery(PageQuery):
    at_from: AwareDatetime | None = Field(default=None, alias="from")
    at_to: AwareDatetime | None = Field(default=None, alias="to")


class OnlineLogQuery(MitraOnlineLogQuery):
    mitra_id: UUID | None = None


class TransitionOut(ResponseModel):
    id: int
    mitra_id: UUID
    mitra_name: str
    status: Literal["online", "offline"]
    reason: str
    operator_id: UUID | None
    at: datetime

    @classmethod
    def of(cls, row: TransitionRow) -> TransitionOut:
        return cls.model_validate(row)


class TransitionPage(Page[TransitionOut]):
    pass


class DurationOut(ResponseModel):
    mitra_id: UUID
    mitra_name: str
    day: date = Field(description="Asia/Jakarta calendar day")
    online_s: float = Field(description="seconds online within the day and the range")

    @classmethod
    def of(cls, row: DurationRow) -> DurationOut:
        return cls(
            mitra_id=row.mitra_id,
            mitra_name=row.mitra_name,
            day=row.day,
            online_s=round(row.online_s, 3),
        )


class DurationPage(Page[DurationOut]):
    pass


# -- sweeper health -------------------------------------------------------------------------


class SweeperRunOut(ResponseModel):
    started_at: datetime
    finished_at: datetime
    status: Literal["ok", "failed"]
    steps: dict[str, dict[str, object]]


class SchedulerJobOut(ResponseModel):
    name: str
    state: str
    schedule: str
    last_attempt_at: datetime | None
    last_status: str
    error: str | None


class SweeperHealthOut(ResponseModel):
    last_run: SweeperRunOut | None
    stale: bool
    scheduler: SchedulerJobOut | None = Field(
        description="the Cloud Scheduler job, when SWEEPER_SCHEDULER_JOB is configured"
    )

    @classmethod
    def of(cls, found: SweeperHealth) -> SweeperHealthOut:
        run = found.last_run
        return cls(
            last_run=(
                SweeperRunOut(
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    status=run.status,
                    steps=dict(run.summary.get("steps", {})),
                )
                if run
                else None
            ),
            stale=found.stale,
            scheduler=SchedulerJobOut.model_validate(found.scheduler) if found.scheduler else None,
        )
