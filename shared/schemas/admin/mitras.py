"""Control-center models: mitras (list, create, edit) with live presence and load."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from pydantic import AfterValidator, Field, model_validator

from shared.schemas.admin.fields import AccountStatus, MaxCustomers, PersonName, Phone, no_nulls
from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page, PageQuery


class MitraQuery(PageQuery):
    q: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    status: AccountStatus | None = None
    online: bool | None = None


# Words in a query string that make a URL a credential (signed CDN links expire, too).
_SECRET_QUERY = ("token", "key", "sig", "secret", "password", "credential", "auth", "x-amz-")


def _photo_url(value: str) -> str:
    """A public https image address shown to clients: no credentials, nothing that expires."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL with a host")
    if "@" in parts.netloc:
        raise ValueError("must not carry a user name or password")
    if any(word in name.lower() for name, _ in parse_qsl(parts.query) for word in _SECRET_QUERY):
        raise ValueError("must not carry a token or signature in its query")
    return value


PhotoUrl = Annotated[
    str,
    Field(max_length=500, description="https, ≤ 500 characters, no credentials"),
    AfterValidator(_photo_url),
]


class MitraCreateIn(RequestModel):
    name: PersonName
    phone: Phone
    max_customers: MaxCustomers | None = None
    photo_url: PhotoUrl | None = None


class MitraPatchIn(RequestModel):
    name: PersonName | None = None
    phone: Phone | None = None
    status: AccountStatus | None = None
    max_customers: MaxCustomers | None = None
    photo_url: PhotoUrl | None = Field(default=None, description="null removes the photo")

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        no_nulls(self, nullable=frozenset({"max_customers", "photo_url"}))
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class MitraAdminOut(ResponseModel):
    id: UUID
    name: str
    phone: str | None = Field(description="null once erased (a deactivated mitra, on request)")
    photo_url: str | None
    status: AccountStatus
    max_customers: int | None = Field(description="per-mitra override; null = settings default")
    max_customers_effective: int
    online: bool = Field(description="live: a heartbeat within heartbeat_timeout_s")
    presence: Literal["online", "offline"]
    last_heartbeat_at: datetime | None
    load: int = Field(description="sessions the mitra holds now")
    logged_in: bool = Field(description="linked to a Firebase phone sign-in")
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: Any) -> MitraAdminOut:  # shared.domain.admin.mitras.MitraView
        row = view.row
        return cls(
            id=row.id,
            name=row.name,
            phone=row.phone,
            photo_url=row.photo_url,
            status=row.status,
            max_customers=row.max_customers,
            max_customers_effective=view.max_customers_effective,
            online=view.online,
            presence="online" if view.online else "offline",
            last_heartbeat_at=view.last_heartbeat_at,
            load=view.load,
            logged_in=row.firebase_uid is not None,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
        )


class MitraPage(Page[MitraAdminOut]):
    pass
