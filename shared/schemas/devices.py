"""Push devices as the apps register them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from shared.errors import InvalidRequest
from shared.schemas.common import RequestModel, ResponseModel

# FCM registration tokens are URL-safe text (in practice ~150–200 characters); the bounds
# leave room for growth while refusing what cannot be a token (empty, kilobytes, spaces).
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-]{16,1024}$")

Platform = Literal["android", "ios", "web"]
AppVersion = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.+_\-]+$")]
# BCP 47-ish: "id", "en-US", "id_ID"; the notifier only uses the language part.
Locale = Annotated[
    str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{1,8})*$")
]


def device_token(raw: str) -> str:
    """The path's token, or a 400 naming it (never echoing it back)."""
    if not TOKEN_PATTERN.fullmatch(raw):
        raise InvalidRequest(
            "The device token must be 16–1024 characters of letters, digits and _ : . -",
            fields=[{"field": "token", "error": "invalid"}],
        )
    return raw


class DeviceIn(RequestModel):
    platform: Platform
    app_version: AppVersion
    locale: Locale


class DeviceOut(ResponseModel):
    platform: Platform
    app_version: str
    locale: str
