"""Control-center request and response models (the admin section of the contract)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from pydantic import AfterValidator, Field, StrictBool, StrictInt, create_model, model_validator

from shared.domain.push_text import PushTemplates, Text
from shared.domain.settings import ProductSettings, VersionedSettings
from shared.schemas.common import Int32, RequestModel, ResponseModel
from shared.store.audit import AuditRow
from shared.store.clients import ClientRow
from shared.store.ledger import Balance
from shared.store.operators import OperatorRow
from shared.store.packages import PackageRow
from shared.web.pagination import Page, PageQuery

OperatorRole = Literal["superadmin", "admin", "viewer"]
AccountStatus = Literal["active", "suspended"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address")
    return value


def _phone(value: str) -> str:
    if not _E164.fullmatch(value):
        raise ValueError("must be an E.164 phone number, e.g. +6281234567890")
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not 2 <= len(value) <= 64:
        raise ValueError("must be 2–64 characters after trimming")
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in value):
        raise ValueError("must not contain control characters")
    return value


Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(_phone)]
PersonName = Annotated[str, AfterValidator(_name)]
Password = Annotated[str, Field(min_length=12, max_length=256)]
MaxCustomers = Annotated[StrictInt, Field(ge=1, le=50)]


def _no_nulls(model: RequestModel, nullable: frozenset[str] = frozenset()) -> None:
    """A PATCH names at least one field, and only `nullable` fields may be sent as null."""
    sent = model.model_fields_set
    if not sent:
        raise ValueError("send at least one field to change")
    nulls = sorted(name for name in sent - nullable if getattr(model, name) is None)
    if nulls:
        raise ValueError(f"may not be null: {', '.join(nulls)}")


# -- operators ------------------------------------------------------------------------------


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
        _no_nulls(self)
        return self


class OperatorPage(Page[OperatorOut]):
    pass


# -- mitras ---------------------------------------------------------------------------------


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
        _no_nulls(self, nullable=frozenset({"max_customers", "photo_url"}))
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
    def of(cls, view: Any) -> MitraAdminOut:  # shared.domain.mitra_admin.MitraView
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


# -- clients (users) ------------------------------------------------------------------------


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


# -- settings -------------------------------------------------------------------------------


class AnonymityIn(RequestModel):
    show_client_display_name: StrictBool | None = None
    show_mitra_name: StrictBool | None = None
    show_mitra_photo: StrictBool | None = None


class LocalizedTextIn(RequestModel):
    id: Text | None = None
    en: Text | None = None


PushTemplatesIn = create_model(
    "PushTemplatesIn",
    __base__=RequestModel,
    __doc__="Any subset of the push texts; each language's title and body are sent together.",
    **{kind: (LocalizedTextIn | None, None) for kind in PushTemplates.model_fields},  # type: ignore[call-overload]
)


def _optional_settings_fields() -> dict[str, Any]:
    """Every ProductSettings field, optional, with the same ranges (so they cannot drift)."""
    fields: dict[str, Any] = {}
    for name, info in ProductSettings.model_fields.items():
        if name == "anonymity":
            fields[name] = (AnonymityIn | None, None)
            continue
        if name == "push_templates":
            fields[name] = (PushTemplatesIn | None, None)
            continue
        copy = info._copy()
        copy.default = None
        fields[name] = (info.annotation | None, copy)  # type: ignore[operator]
    return fields


SettingsIn = create_model(
    "SettingsIn",
    __base__=RequestModel,
    __doc__=(
        "Any subset of the settings; fields left out keep their current value. `version`:"
        " the one GET returned; when sent, a newer stored version refuses the write (409)."
    ),
    version=(StrictInt | None, Field(default=None, ge=1, le=2**31 - 1)),
    **_optional_settings_fields(),
)


class SettingsOut(ProductSettings):
    version: int

    @classmethod
    def of(cls, saved: VersionedSettings) -> SettingsOut:
        return cls(version=saved.version, **saved.settings.model_dump())


# -- packages -------------------------------------------------------------------------------

PackageName = Annotated[str, Field(min_length=1, max_length=64)]
Sessions = Annotated[StrictInt, Field(ge=1, le=100)]
PriceIdr = Annotated[StrictInt, Field(ge=0, le=100_000_000, description="whole rupiah")]


class PackageOut(ResponseModel):
    id: UUID
    name: str
    sessions: int
    price: int
    currency: str
    active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PackageRow) -> PackageOut:
        return cls.model_validate(row)


class PackageCreateIn(RequestModel):
    name: PackageName
    sessions: Sessions
    price: PriceIdr
    active: StrictBool = True
    sort_order: Int32 = 0


class PackagePatchIn(RequestModel):
    name: PackageName | None = None
    sessions: Sessions | None = None
    price: PriceIdr | None = None
    active: StrictBool | None = None
    sort_order: Int32 | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        _no_nulls(self)
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class PackagePage(Page[PackageOut]):
    pass


# -- audit ----------------------------------------------------------------------------------


class AuditQuery(PageQuery):
    at_from: datetime | None = Field(default=None, alias="from")
    at_to: datetime | None = Field(default=None, alias="to")
    admin_id: UUID | None = None
    target_type: Annotated[str, Field(max_length=32)] | None = None
    target_id: Annotated[str, Field(max_length=64)] | None = None


class AuditOut(ResponseModel):
    id: int
    admin_id: UUID | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime

    @classmethod
    def of(cls, row: AuditRow) -> AuditOut:
        return cls(
            id=row.id,
            admin_id=row.operator_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            before=row.before,
            after=row.after,
            at=row.at,
        )


class AuditPage(Page[AuditOut]):
    pass
