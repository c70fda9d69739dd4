"""Control-center models: the sweeper's health (last run, Cloud Scheduler job)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from shared.schemas.common import ResponseModel

if TYPE_CHECKING:
    from shared.domain.sweeper_health import SweeperHealth


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
