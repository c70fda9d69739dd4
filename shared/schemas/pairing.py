"""Pairing requests, offers and matches as the pairing function speaks them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from shared.schemas.common import ResponseModel

if TYPE_CHECKING:
    from shared.store.pairing import OfferRow, RequestRow

RequestStatus = Literal["searching", "matched", "expired", "cancelled", "no_bestie"]


class VisibleClientOut(ResponseModel):
    """A client as a mitra may see them; fields the operator hides are null."""

    display_name: str | None = None


class VisibleMitraOut(ResponseModel):
    """A mitra as a client may see them; fields the operator hides are null."""

    name: str | None = None
    photo_url: str | None = None


class PairingRequestOut(ResponseModel):
    id: UUID
    status: RequestStatus
    created_at: datetime
    expires_at: datetime | None = None
    offered_to: int | None = None
    session_id: UUID | None = None
    mitra: VisibleMitraOut | None = None
    time_to_match_ms: int | None = None

    @classmethod
    def of(cls, row: RequestRow, mitra: dict[str, Any] | None = None) -> PairingRequestOut:
        return cls(
            id=row.id,
            status=row.status,
            created_at=row.created_at,
            expires_at=row.expires_at if row.status != "no_bestie" else None,
            offered_to=row.offered_count if row.status != "no_bestie" else None,
            session_id=row.session_id,
            mitra=VisibleMitraOut(**mitra) if mitra else None,
            time_to_match_ms=row.time_to_match_ms,
        )


class CancelledOut(ResponseModel):
    status: RequestStatus


class OfferOut(ResponseModel):
    id: UUID
    client: VisibleClientOut
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: OfferRow) -> OfferOut:
        return cls(
            id=row.request_id,
            client=VisibleClientOut(display_name=row.client_display_name),
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


class OffersOut(ResponseModel):
    items: list[OfferOut]


class AcceptedOut(ResponseModel):
    session_id: UUID
    client: VisibleClientOut
