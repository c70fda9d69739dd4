"""Bodies of the privacy routes: account erasure, data export, operator erasure."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.schemas.common import RequestModel, ResponseModel
from shared.schemas.operations import _reason

if TYPE_CHECKING:
    # Only the `of` constructors name these (their modules load on first erasure/export).
    from shared.domain.erasure import Erasure
    from shared.domain.exports import Export

Reason = Annotated[str, Field(max_length=2000), AfterValidator(_reason)]


class ErasureOut(ResponseModel):
    """What the erasure did; a repeated call answers the same."""

    client_id: UUID
    status: Literal["erased"] = "erased"
    erased_at: datetime
    erased_by: Literal["client", "operator"]
    ended_session_id: UUID | None = Field(description="the active session it ended, if any")
    cancelled_request_id: UUID | None = Field(
        description="the open pairing request it cancelled, if any"
    )
    devices_removed: int
    firebase_user_deleted: bool = Field(
        description="false when the sign-in account was already gone"
    )

    @classmethod
    def of(cls, erasure: Erasure) -> ErasureOut:
        return cls.model_validate(erasure)


class EraseIn(RequestModel):
    reason: Reason


class ExportProfileOut(ResponseModel):
    id: UUID
    display_name: str
    registered: bool
    sign_in_provider: str = Field(description="anonymous, google.com, apple.com or phone")
    phone: str | None
    email: str | None
    status: str
    created_at: datetime
    registered_at: datetime | None


class ExportMitraOut(ResponseModel):
    """The mitra of a session, as the anonymity settings let the client see them."""

    name: str
    photo_url: str | None


class ExportSessionOut(ResponseModel):
    id: UUID
    status: str
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    mitra: ExportMitraOut


class ExportRequestOut(ResponseModel):
    id: UUID
    status: str = Field(description="searching, matched, expired, cancelled or no_bestie")
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    session_id: UUID | None
    time_to_match_ms: int | None


class ExportPaymentOut(ResponseModel):
    id: UUID
    package_id: UUID
    sessions: int
    amount: int = Field(description="whole rupiah")
    currency: str
    status: str
    invoice_url: str | None
    expires_at: datetime | None
    paid_at: datetime | None
    failure_reason: str | None
    created_at: datetime


class ExportLedgerOut(ResponseModel):
    id: int
    bucket: str = Field(description="trial or credit")
    kind: str = Field(description="grant, purchase, consumption, refund or adjustment")
    sessions: int
    payment_id: UUID | None
    session_id: UUID | None
    reason: str | None
    created_at: datetime


class ExportMessageOut(ResponseModel):
    """A chat message of one of the caller's sessions, without its text: the text is
    encrypted with keys only the sessions function holds (docs/chat.md), and the app reads it
    with `GET /api/client/sessions/{id}/messages`, which stays open for ended sessions."""

    id: UUID
    session_id: UUID
    seq: int = Field(description="position in the session (1, 2, …)")
    sender: Literal["client", "mitra"]
    sent_at: datetime


class ExportDeviceOut(ResponseModel):
    token: str = Field(description="the push registration token of that phone")
    platform: str
    app_version: str
    locale: str
    created_at: datetime
    last_seen_at: datetime


class ExportBalanceOut(ResponseModel):
    trial_sessions: int
    credits: int


class ExportOut(ResponseModel):
    """Everything the service holds about the caller (UU PDP's right of access). Operators'
    audit entries about the account and the server logs (ids only, kept 30 days) are not
    part of it; docs/data.md lists every store."""

    exported_at: datetime
    profile: ExportProfileOut
    balance: ExportBalanceOut
    sessions: list[ExportSessionOut]
    pairing_requests: list[ExportRequestOut]
    payments: list[ExportPaymentOut]
    ledger: list[ExportLedgerOut]
    chat_messages: list[ExportMessageOut] = Field(
        description="every message of the caller's sessions, both sides, without text"
    )
    devices: list[ExportDeviceOut]

    @classmethod
    def of(cls, export: Export) -> ExportOut:
        return cls.model_validate(
            {
                "exported_at": export.exported_at,
                "profile": export.profile,
                "balance": export.balance,
                **export.rows,
            }
        )
