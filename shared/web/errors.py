"""Domain errors as the contract's HTTP status and error shape."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from shared import errors


def status_of(error: errors.DomainError) -> int:
    """The class carries its status (`shared.errors`): one code, one status."""
    return error.status


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
    from flask import current_app, has_app_context, request
    from werkzeug.exceptions import HTTPException

    from shared.web import cors

    if not has_app_context() or HTTPException in current_app.error_handler_spec[None][None]:
        return

    def contract_shape(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _FRAMEWORK_CODES.get(status, "invalid_request" if status < 500 else "internal")
        # CORS like every answer of the route tables: a browser must be able to read it.
        origin = cors.allowed_origin(
            cors.audience_of_path(request.path), request.headers.get("Origin")
        )
        return cors.decorate(error_response(status, code, exc.name), origin)

    current_app.register_error_handler(HTTPException, contract_shape)


def refuse_deep_cloud_events() -> None:
    """functions-framework gives a CloudEvent's body to the CloudEvents SDK, whose `json.loads`
    recurses without limit: a body nested thousands of levels deep was a `500` before the
    entry point ran (for Pub/Sub, a redelivery loop). Eventarc's envelopes are 3 levels deep,
    so such a body can only come from a direct caller: it is refused first, `400` in the
    contract's shape, with the request bodies' nesting limit. Only requests that claim to be
    CloudEvents (`ce-specversion`, or a `application/cloudevents` body) are looked at. Called
    at module level of an entry module, like `answer_framework_errors`; a no-op elsewhere."""
    from flask import current_app, has_app_context, request

    from shared.web import untrusted

    if not has_app_context():
        return

    def check_depth() -> Response | None:
        content_type = request.headers.get("Content-Type", "")
        if "ce-specversion" not in request.headers and "cloudevents" not in content_type:
            return None
        text = request.get_data(cache=True).decode("utf-8", "replace")
        if untrusted.nesting_depth(text) <= untrusted.MAX_DEPTH:
            return None
        return error_response(
            400,
            "invalid_request",
            f"JSON may nest at most {untrusted.MAX_DEPTH} levels.",
            {"fields": [{"field": "body", "error": "too_deep"}]},
        )

    current_app.before_request(check_depth)
