"""Stream tickets (shared.identity.tickets)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.identity.tickets import IssuedTicket


class StreamTicketOut(BaseModel):
    ticket: str
    expires_at: datetime

    @classmethod
    def of(cls, issued: IssuedTicket) -> StreamTicketOut:
        return cls(ticket=issued.ticket, expires_at=issued.expires_at)
