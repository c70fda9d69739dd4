"""Control-center models: mitra online/offline transitions and daily online durations."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.schemas.common import ResponseModel
from shared.web.pagination import Page, PageQuery

if TYPE_CHECKING:
    from shared.store.online_logs import DurationRow, TransitionRow


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
