"""Operations models: health, the control center's payments list, credit adjustments."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StrictInt, field_validator

from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page, PageQuery

if TYPE_CHECKING:
    # Only the `of` constructors name these: the domain modules (health imports the
    # sweeper) stay out of the cold start of the functions that serve HealthOut.
    from shared.domain.credit_adjustments import Adjustment
    from shared.domain.health import Readiness
    from shared.store.payments import PaymentRow, WebhookEventRow

State = Literal["ok", "degraded", "down"]
PaymentStatus = Literal["pending", "paid", "expired", "failed"]

# The largest adjustment one request may make, either way: a typo (1000 for 10) is refused
# instead of being written to the ledger.
MAX_ADJUSTMENT = 100


class HealthOut(ResponseModel):
    status: Literal["ok"]


class CheckOut(ResponseModel):
    state: State
    latency_ms: float | None = None
    detail: str | None = None


class SweeperCheckOut(CheckOut):
    last_run_at: datetime | None = None
    last_status: str | None = None
    age_s: float | None = None
    stale_after_s: int


class ReadinessOut(ResponseModel):
    status: State
    postgres: CheckOut
    valkey: CheckOut
    sweeper: SweeperCheckOut
    checked_at: datetime

    @classmethod
    def of(cls, readiness: Readiness) -> ReadinessOut:
        return cls.model_validate(readiness)


class PaymentQuery(PageQuery):
    status: PaymentStatus | None = None
    client_id: UUID | None = None


class WebhookEventOut(ResponseModel):
    received_at: datetime
    status: str | None
    outcome: str
    source: Literal["webhook", "reconciliation"]


class AdminPaymentOut(ResponseModel):
    id: UUID
    client_id: UUID
    package_id: UUID
    status: PaymentStatus
    sessions: int
    amount: int
    currency: str
    xendit_invoice_id: str | None
    expires_at: datetime | None
    paid_at: datetime | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    webhook_events: list[WebhookEventOut]

    @classmethod
    def of(cls, item: tuple[PaymentRow, list[WebhookEventRow]]) -> AdminPaymentOut:
        row, events = item
        return cls.model_validate(
            {
                **{
                    name: getattr(row, name)
                    for name in cls.model_fields
                    if name != "webhook_events"
                },
                "webhook_events": [WebhookEventOut.model_validate(e) for e in events],
            }
        )


class AdminPaymentPage(Page[AdminPaymentOut]):
    pass


def _reason(value: str) -> str:
    value = value.strip()
    if not 3 <= len(value) <= 500:
        raise ValueError("must be 3–500 characters after trimming")
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in value):
        raise ValueError("must not contain control characters")
    return value


class CreditAdjustmentIn(RequestModel):
    sessions: Annotated[StrictInt, Field(ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT)]
    reason: Annotated[str, Field(max_length=2000), AfterValidator(_reason)]

    @field_validator("sessions")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0: a grant is > 0, a refund < 0")
        return value


class BalanceOut(ResponseModel):
    trial_sessions: int
    credits: int


class CreditAdjustmentOut(ResponseModel):
    id: int
    client_id: UUID
    type: Literal["grant", "refund"]
    kind: Literal["adjustment"]
    bucket: Literal["credit"]
    sessions: int
    reference: str
    reason: str
    operator_id: UUID
    created_at: datetime
    balance: BalanceOut

    @classmethod
    def of(cls, adjustment: Adjustment) -> CreditAdjustmentOut:
        entry = adjustment.entry
        return cls(
            id=entry.id,
            client_id=entry.client_id,
            type="grant" if entry.sessions > 0 else "refund",
            kind="adjustment",
            bucket="credit",
            sessions=entry.sessions,
            reference=entry.reference,
            reason=entry.reason or "",
            operator_id=entry.operator_id,
            created_at=entry.created_at,
            balance=BalanceOut.model_validate(adjustment.balance),
        )
