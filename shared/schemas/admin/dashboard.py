"""Control-center models: the real-time dashboard (also the stream's `dashboard` event)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from pydantic import Field

from shared.schemas.common import RequestModel, ResponseModel

if TYPE_CHECKING:
    from shared.domain.dashboard import Dashboard
    from shared.store.dashboard import OrphanRow


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
