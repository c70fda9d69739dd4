"""Browser access (CORS), per audience: the admin API (the control center) and the public API
(web builds of the apps) each allow the origins their configuration lists
(`CORS_ADMIN_ORIGINS`, `CORS_PUBLIC_ORIGINS`).

A response to an allowed origin names that origin (never `*`, so a cache keyed on `Vary:
Origin` never serves one origin's answer to another) and exposes the headers a client reads;
an origin on no list gets no CORS header at all and the browser blocks the call. Tokens
travel in `Authorization`, never in cookies, so credentials mode stays off.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response

from shared.config import get_config

ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Request-Id"
EXPOSE_HEADERS = "X-Request-Id, Retry-After, Idempotent-Replayed"


def allowed_origin(audience: str, origin: str | None) -> str | None:
    """`origin` when `audience` allows it, else None."""
    if not origin:
        return None
    origins = get_config().cors_origins(audience)
    if origin in origins or (audience != "admin" and "*" in origins):
        return origin
    return None


def audience_of_path(path: str) -> str:
    """The audience whose allow-list covers a path no route table answered (framework and
    gateway errors): the admin API lives under `/api/admin/`, everything else is public."""
    return "admin" if path == "/api/admin" or path.startswith("/api/admin/") else "public"


def decorate(response: Response, origin: str | None) -> Response:
    """Every response varies by Origin; one to an allowed origin says so."""
    # The header itself, not werkzeug's `response.vary` set: same answer, without parsing
    # and rebuilding a header set on every response (the heartbeat's hot path).
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Origin"
    elif "origin" not in {part.strip().lower() for part in vary.split(",")}:
        response.headers["Vary"] = f"{vary}, Origin"
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


def preflight(origin: str | None, methods: Iterable[str]) -> Response:
    """`204` to an `OPTIONS` on a known path: the methods of the route table, and, for an
    allowed origin, what a browser needs to send the real request."""
    allowed = ", ".join(sorted({*methods, "OPTIONS"}))
    response = Response(status=204, headers={"Allow": allowed})
    if origin is not None:
        response.headers["Access-Control-Allow-Methods"] = allowed
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = str(get_config().cors_max_age_s)
    return response
