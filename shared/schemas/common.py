"""Field types and model bases every schema family uses.

Every schema defers building its validator and serializer (`defer_build`) to its first
use: a function defines the models of all its routes at import but a cold instance's first
request needs one or two, so the rest are built when first asked for (≈ 1 ms each; the
OpenAPI documents build them on their first request and come out the same).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt


class RequestModel(BaseModel):
    """A request body or query: unknown fields are refused, so typos are named in the 400."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, defer_build=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True, defer_build=True)


def _display_name(value: str) -> str:
    value = value.strip()
    if not 2 <= len(value) <= 32:
        raise ValueError("must be 2–32 characters after trimming")
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in value):
        raise ValueError("must not contain control characters")
    return value


DisplayName = Annotated[str, AfterValidator(_display_name)]


# Integers bound for an `integer` column: anything wider is a 400 naming the field, never a
# driver or server error. (`bigint` needs nothing: every request value is checked against
# it in `shared.web.untrusted`.)
Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]
