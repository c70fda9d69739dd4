"""Entitlement, packages, payments and Xendit's invoice callback as the payments function
speaks them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StringConstraints

from shared.schemas.common import RequestModel, ResponseModel

if TYPE_CHECKING:
    from shared.domain.payments import Entitlement, InvoiceCallback
    from shared.store.packages import PackageRow
    from shared.store.payments import PaymentRow


class EntitlementOut(ResponseModel):
    trial_sessions_left: int
    credits: int
    registered: bool

    @classmethod
    def of(cls, entitlement: Entitlement) -> EntitlementOut:
        return cls.model_validate(entitlement)


class PackageOut(ResponseModel):
    id: UUID
    name: str
    sessions: int
    price: int
    currency: str


class PackageListOut(ResponseModel):
    items: list[PackageOut]

    @classmethod
    def of(cls, rows: list[PackageRow]) -> PackageListOut:
        return cls(items=[PackageOut.model_validate(row) for row in rows])


class PaymentIn(RequestModel):
    package_id: UUID


class PaymentOut(ResponseModel):
    id: UUID
    status: Literal["pending", "paid", "expired", "failed"]
    package_id: UUID
    sessions: int
    amount: int
    currency: str
    invoice_url: str | None
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: PaymentRow) -> PaymentOut:
        return cls.model_validate(row)


NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=200)]
StrictNumber = StrictInt | StrictFloat


class InvoiceCallbackIn(BaseModel):
    """Xendit's invoice callback. Unknown fields are kept (Xendit adds fields over time);
    only the ones below are read."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # as shared.schemas.common

    id: NonEmpty
    external_id: NonEmpty
    status: NonEmpty
    amount: StrictNumber | None = None
    paid_amount: StrictNumber | None = None
    currency: str | None = None
    paid_at: datetime | None = None

    def to_domain(self) -> InvoiceCallback:
        # Here, not at the top: the admin function lists payments with these schemas and
        # never needs the payments domain at start.
        from shared.domain.payments import InvoiceCallback

        body: dict[str, Any] = self.model_dump(mode="json")
        return InvoiceCallback(
            invoice_id=self.id,
            external_id=self.external_id,
            status=self.status,
            amount=_decimal(self.amount),
            paid_amount=_decimal(self.paid_amount),
            currency=self.currency,
            paid_at=self.paid_at,
            body=body,
        )


def _decimal(value: int | float | None) -> Decimal | None:
    # Through str, so 35000.0 compares equal to the 35000 rupiah we asked for.
    return Decimal(str(value)) if value is not None else None


class CallbackOut(ResponseModel):
    outcome: Literal["credited", "duplicate", "expired", "mismatch", "unknown_payment", "ignored"]
