"""The local stand-in for the load balancers: one functions-framework target that hands each
request to the function owning its path, by the catalogue's prefixes.

`HALO_GATEWAY_INGRESS=public` serves what the global external load balancer serves;
`internal` serves what only the VPC reaches (the admin function). Run it with:

    functions-framework --source devstack/gateway.py --target gateway --port 8080

Function modules are imported by package path (`functions.auth.main`), never as bare
`main`, so several functions live in one process without colliding. A function whose entry
point is async (the events streams) runs as its own server (devstack/upstreams.py): its
paths are proxied to `HALO_UPSTREAM_<NAME>`, the response streamed through as it comes.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import urllib.parse
from collections.abc import Callable, Iterator
from functools import cache

import functions_framework
from flask import Request, Response

from devstack.upstreams import is_async_entry_point, upstream_variable
from shared.catalogue import Catalogue, FunctionEntry, load_catalogue
from shared.web import cors
from shared.web.errors import answer_framework_errors

INGRESS = os.environ.get("HALO_GATEWAY_INGRESS", "public")

answer_framework_errors()


@cache
def _catalogue() -> Catalogue:
    """Read once per process: the gateway routes every request by it, and parsing the YAML
    per request cost more than most of the functions it fronts."""
    return load_catalogue()


@cache
def _entry_point(name: str) -> Callable[[Request], Response]:
    entry = _catalogue()[name]
    module = importlib.import_module(f"functions.{entry.source}.main")
    handler: Callable[[Request], Response] = getattr(module, entry.entry_point)
    return handler


def _not_routed(request: Request) -> Response:
    return _gateway_error(request, 404, "not_found", "No function serves this path here.")


def _gateway_error(request: Request, status: int, code: str, message: str) -> Response:
    body = {"error": {"code": code, "message": message, "details": {"path": request.path}}}
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    # As the function would: an allowed origin can read the 404 (it is not a CORS failure).
    audience = "admin" if INGRESS == "internal" else "public"
    return cors.decorate(response, cors.allowed_origin(audience, request.headers.get("Origin")))


# Per connection, not end to end (RFC 9110 §7.6.1): never relayed by a proxy.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"}
    | {"upgrade", "content-length"}
)
# As much as the function itself would read of a body (shared.web.api.MAX_BODY_BYTES + 1).
_MAX_PROXIED_BODY = 64 * 1024 + 1


def _proxy(entry: FunctionEntry, request: Request) -> Response:
    """Relay the request to the function's own server; stream its answer back."""
    base = urllib.parse.urlsplit(os.environ.get(upstream_variable(entry.name), ""))
    target = request.environ.get("RAW_URI") or urllib.parse.quote(request.path)
    if "?" not in target and request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    body = request.stream.read(_MAX_PROXIED_BODY)
    if body or request.content_length is not None:
        headers["Content-Length"] = str(len(body))
    connection = http.client.HTTPConnection(base.hostname or "", base.port, timeout=None)
    try:
        connection.request(request.method, target, body=body or None, headers=headers)
        upstream = connection.getresponse()
    except OSError:
        connection.close()
        return _gateway_error(request, 503, "unavailable", "The service is briefly unavailable.")

    def relay() -> Iterator[bytes]:
        try:
            while chunk := upstream.read1(65536):
                yield chunk
        finally:
            connection.close()

    relayed = [(k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP_BY_HOP]
    return Response(relay(), status=upstream.status, headers=relayed, direct_passthrough=True)


@functions_framework.http
def gateway(request: Request) -> Response:
    entry = _catalogue().owner_of(request.path, INGRESS)
    if entry is None:
        return _not_routed(request)
    if is_async_entry_point(entry):
        return _proxy(entry, request)
    return _entry_point(entry.name)(request)


def warm_up() -> None:
    """Import every function this gateway serves, so the first request is not a cold start."""
    for entry in _catalogue().http_functions(INGRESS):
        if not is_async_entry_point(entry):
            _entry_point(entry.name)


if os.environ.get("HALO_GATEWAY_WARM", "1") == "1":
    warm_up()
