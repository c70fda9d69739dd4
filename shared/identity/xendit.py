"""The policy of Xendit's webhooks: Xendit proves itself with the callback verification
token of our account in the `x-callback-token` header (no bearer token, no signature)."""

from __future__ import annotations

import hmac

from flask import Request

from shared import signals
from shared.config import get_config
from shared.errors import DomainError, Unauthenticated


class XenditCallback:
    scheme = "xenditCallbackToken"  # an apiKey scheme in the OpenAPI documents
    role = "xendit"
    description = "Xendit's callback verification token in the x-callback-token header."
    raises: tuple[type[DomainError], ...] = (Unauthenticated,)

    def __call__(self, request: Request) -> None:
        expected = get_config().xendit_callback_token.get_secret_value().encode()
        given = request.headers.get("x-callback-token", "").encode()
        # An unset token must refuse everything, never accept an empty header.
        if not expected or not hmac.compare_digest(given, expected):
            signals.xendit_webhook("rejected")
            raise Unauthenticated("Missing or wrong x-callback-token.")


XENDIT_CALLBACK = XenditCallback()
