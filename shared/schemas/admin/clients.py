"""Control-center models: clients (the contract's `users`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

from pydantic import Field

from shared.schemas.admin.fields import AccountStatus
from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page, PageQuery

if TYPE_CHECKING:
    from shared.store.clients import ClientRow
    from shared.store.ledger import Balance


class UserQuery(PageQuery):
    q: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    status: AccountStatus | None = None


class UserPatchIn(RequestModel):
    status: AccountStatus


class UserAdminOut(ResponseModel):
    id: UUID
    display_name: str
    registered: bool
    sign_in_provider: str
    status: AccountStatus
    phone: str | None
    email: str | None
    created_at: datetime
    registered_at: datetime | None
    erased_at: datetime | None = Field(
        default=None, description="set once the account was deleted (personal data erased)"
    )

    @classmethod
    def of(cls, row: ClientRow) -> UserAdminOut:
        return cls.model_validate(row)


class UserDetailOut(UserAdminOut):
    trial_sessions_left: int
    credits: int

    @classmethod
    def of_view(cls, row: ClientRow, balance: Balance) -> UserDetailOut:
        return cls(
            **UserAdminOut.of(row).model_dump(),
            trial_sessions_left=balance.trial_sessions,
            credits=balance.credits,
        )


class UserPage(Page[UserAdminOut]):
    pass
