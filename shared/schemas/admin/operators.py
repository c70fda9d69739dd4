"""Control-center models: operator login and operator accounts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self
from uuid import UUID

from pydantic import Field, model_validator

from shared.schemas.admin.fields import AccountStatus, Email, OperatorRole, Password, no_nulls
from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page

if TYPE_CHECKING:
    from shared.store.operators import OperatorRow


class LoginIn(RequestModel):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class OperatorOut(ResponseModel):
    id: UUID
    email: str
    role: OperatorRole
    status: AccountStatus
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: OperatorRow) -> OperatorOut:
        return cls.model_validate(row)


class LoginOut(ResponseModel):
    token: str
    expires_at: datetime
    admin: OperatorOut


class OperatorCreateIn(RequestModel):
    email: Email
    password: Password
    role: OperatorRole


class OperatorPatchIn(RequestModel):
    role: OperatorRole | None = None
    status: AccountStatus | None = None
    password: Password | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        no_nulls(self)
        return self


class OperatorPage(Page[OperatorOut]):
    pass
