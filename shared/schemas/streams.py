"""Stream tickets (shared.identity.tickets)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from shared.identity.tickets import IssuedTicket


class StreamTicketOut(BaseModel):
    model_config = ConfigDict(defer_build=True)  # as every schema (shared.schemas.common)

    ticket: str
    expires_at: datetime

    @classmethod
    def of(cls, issued: IssuedTicket) -> StreamTicketOut:
        return cls(ticket=issued.ticket, expires_at=issued.expires_at)
