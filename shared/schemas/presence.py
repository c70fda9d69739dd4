"""Mitra presence as the presence function speaks it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from shared.schemas.common import RequestModel, ResponseModel

if TYPE_CHECKING:
    from shared.domain.presence import PresenceView


class PresenceIn(RequestModel):
    status: Literal["online", "offline"]


class PresenceOut(ResponseModel):
    status: Literal["online", "offline"]
    last_heartbeat_at: datetime | None
    heartbeat_interval_s: int
    heartbeat_timeout_s: int

    @classmethod
    def of(cls, view: PresenceView) -> PresenceOut:
        return cls(
            status=view.status,
            last_heartbeat_at=view.last_heartbeat_at,
            heartbeat_interval_s=view.heartbeat_interval_s,
            heartbeat_timeout_s=view.heartbeat_timeout_s,
        )
