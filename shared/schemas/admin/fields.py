"""Field types and validators shared by the control-center models: email, E.164 phone,
person name, password, photo URL, and the PATCH rule (at least one field, no stray nulls)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt

from shared.schemas.common import RequestModel

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


def no_nulls(model: RequestModel, nullable: frozenset[str] = frozenset()) -> None:
    """A PATCH names at least one field, and only `nullable` fields may be sent as null."""
    sent = model.model_fields_set
    if not sent:
        raise ValueError("send at least one field to change")
    nulls = sorted(name for name in sent - nullable if getattr(model, name) is None)
    if nulls:
        raise ValueError(f"may not be null: {', '.join(nulls)}")
