"""The one table that turns domain errors into the contract's HTTP status and error shape."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from shared import errors

STATUS: dict[type[errors.DomainError], int] = {
    errors.InvalidRequest: 400,
    errors.Unauthenticated: 401,
    errors.InvalidCredentials: 401,
    errors.PaymentRequired: 402,
    errors.Forbidden: 403,
    errors.Suspended: 403,
    errors.NotAMitra: 403,
    errors.NotOffered: 403,
    errors.RegistrationRequired: 403,
    errors.ProfileMissing: 404,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.NotOnline: 409,
    errors.AlreadySearching: 409,
    errors.AlreadyInSession: 409,
    errors.AlreadyTaken: 409,
    errors.AlreadyMatched: 409,
    errors.AtCapacity: 409,
    errors.EmailTaken: 409,
    errors.PhoneTaken: 409,
    errors.Expired: 410,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Locked: 423,
    errors.LastSuperadmin: 409,
    errors.RateLimited: 429,
    errors.PaymentProviderError: 502,
    errors.Unavailable: 503,
    errors.SessionEnded: 409,
}


def status_of(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 409


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(error_body(code, message, details)),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def domain_error_response(error: errors.DomainError) -> Response:
    details = dict(error.details)
    headers: dict[str, str] = {}
    retry_after = details.pop("retry_after_s", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return error_response(status_of(error), error.code, error.message, details, headers)


_FRAMEWORK_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def answer_framework_errors() -> None:
    """Give the errors functions-framework's Flask app raises before a route table sees the
    request the contract's shape (its `/<path:path>` rule cannot match a path holding an
    encoded newline, and Flask would answer an HTML page). Called at module level of an entry
    module, which functions-framework executes inside its app context; a no-op elsewhere
    (bench, tests) and when the app already has the handler (the local gateway)."""
    from flask import current_app, has_app_context
    from werkzeug.exceptions import HTTPException

    if not has_app_context() or HTTPException in current_app.error_handler_spec[None][None]:
        return

    def contract_shape(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _FRAMEWORK_CODES.get(status, "invalid_request" if status < 500 else "internal")
        return error_response(status, code, exc.name)

    current_app.register_error_handler(HTTPException, contract_shape)
