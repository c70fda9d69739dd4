"""The local stand-in for the load balancers: one functions-framework target that hands each
request to the function owning its path, by the catalogue's prefixes.

`HALO_GATEWAY_INGRESS=public` serves what the global external load balancer serves;
`internal` serves what only the VPC reaches (the admin function). Run it with:

    functions-framework --source devstack/gateway.py --target gateway --port 8080

Function modules are imported by package path (`functions.auth.main`), never as bare
`main`, so several functions live in one process without colliding.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from functools import cache

import functions_framework
from flask import Request, Response

from shared.catalogue import load_catalogue
from shared.web import cors
from shared.web.errors import answer_framework_errors

INGRESS = os.environ.get("HALO_GATEWAY_INGRESS", "public")

answer_framework_errors()


@cache
def _entry_point(name: str) -> Callable[[Request], Response]:
    entry = load_catalogue()[name]
    module = importlib.import_module(f"functions.{entry.source}.main")
    handler: Callable[[Request], Response] = getattr(module, entry.entry_point)
    return handler


def _not_routed(request: Request) -> Response:
    body = {
        "error": {
            "code": "not_found",
            "message": "No function serves this path here.",
            "details": {"path": request.path},
        }
    }
    response = Response(json.dumps(body), status=404, mimetype="application/json")
    # As the function would: an allowed origin can read the 404 (it is not a CORS failure).
    audience = "admin" if INGRESS == "internal" else "public"
    return cors.decorate(response, cors.allowed_origin(audience, request.headers.get("Origin")))


@functions_framework.http
def gateway(request: Request) -> Response:
    entry = load_catalogue().owner_of(request.path, INGRESS)
    if entry is None:
        return _not_routed(request)
    return _entry_point(entry.name)(request)


def warm_up() -> None:
    """Import every function this gateway serves, so the first request is not a cold start."""
    for entry in load_catalogue().http_functions(INGRESS):
        _entry_point(entry.name)


if os.environ.get("HALO_GATEWAY_WARM", "1") == "1":
    warm_up()
