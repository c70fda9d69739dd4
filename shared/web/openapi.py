"""OpenAPI 3.1 documents generated from the route tables and their pydantic models, so the
document cannot drift from the code. Served per audience at
`/api/{client,mitra,shared,admin}/openapi.json`: the auth function serves the three public
ones (assembling every public function's route table, imported on first request), the
admin function its own.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from pydantic import BaseModel

from shared.errors import DomainError
from shared.web.api import Api, Call, Route

PUBLIC_AUDIENCES = ("client", "mitra", "shared")
_PATH_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_FORMATS = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer"}}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}",
            mode=mode,  # type: ignore[arg-type]
        )
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        self.schemas.setdefault(model.__name__, schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}


def openapi_path(rule: str) -> str:
    return _PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _operation(route: Route, components: _Components) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "responses": {},
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _FORMATS.get(converter or "", {"type": "string"}),
        }
        for converter, name in _PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        query_schema = route.query.model_json_schema()
        required = set(query_schema.get("required", []))
        for name, schema in query_schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": any(f.is_required() for f in route.body.model_fields.values()),
            "content": {"application/json": {"schema": components.ref(route.body, "validation")}},
        }
    if route.auth.scheme:
        operation["security"] = [{route.auth.scheme: []}]
        alternative = getattr(route.auth, "alt_scheme", None)
        if alternative:  # stream routes: `?ticket=` in place of Authorization
            operation["security"].append({alternative: []})

    success: dict[str, Any] = {"description": "Success"}
    if route.stream:
        success["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
    elif route.response is not None:
        success["content"] = {
            "application/json": {"schema": components.ref(route.response, "serialization")}
        }
    operation["responses"][str(route.status)] = success
    for status, other in route.also.items():
        if isinstance(other, str):  # the same body, another meaning
            operation["responses"][str(status)] = dict(success, description=other)
        else:
            operation["responses"][str(status)] = {
                "description": other.__doc__.strip().split("\n")[0] if other.__doc__ else "",
                "content": {"application/json": {"schema": components.ref(other, "serialization")}},
            }
    by_status: dict[int, list[type[DomainError]]] = {}
    for cls in route.refusals():
        by_status.setdefault(cls.status, []).append(cls)
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status in sorted(by_status):
        if str(status) in operation["responses"]:  # a success body of its own (readiness 503)
            continue
        codes = sorted({cls.code for cls in by_status[status]})
        response: dict[str, Any] = {
            "description": "Error: " + ", ".join(codes),
            "content": error_ref,
            "x-error-codes": codes,
        }
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
        operation["responses"][str(status)] = response
    return operation


def build_document(apis: list[Api], prefix: str, title: str) -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for api in apis:
        for route in api.routes:
            if not route.path.startswith(prefix) or route.path.endswith("/openapi.json"):
                continue
            item = paths.setdefault(openapi_path(route.path), {})
            item[route.method.lower()] = dict(_operation(route, components), tags=[api.name])
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components.schemas,
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "securitySchemes": {
                "firebase": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "Firebase ID token",
                },
                "operator": {"type": "http", "scheme": "bearer", "bearerFormat": "Operator token"},
                "streamTicket": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "ticket",
                    "description": "Single-use stream ticket from the stream-tickets route",
                },
                "xenditCallbackToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-callback-token",
                },
            },
        },
    }


def public_apis() -> list[Api]:
    """Every public function's route table (imported here, not at cold start)."""
    from shared.catalogue import load_catalogue  # PyYAML: first document request only

    apis = []
    seen: set[str] = set()
    for entry in load_catalogue().http_functions(ingress="public"):
        if entry.source in seen:
            continue
        seen.add(entry.source)
        module = importlib.import_module(f"functions.{entry.source}.routes")
        apis.append(module.api)
    return apis


_documents: dict[str, dict[str, Any]] = {}
_documents_lock = threading.Lock()


def _audience_document(audience: str) -> dict[str, Any]:
    with _documents_lock:
        if audience not in _documents:
            _documents[audience] = build_document(
                public_apis(), f"/api/{audience}/", f"Halo Bestie {audience} API"
            )
        return _documents[audience]


def serve_public_documents(api: Api) -> None:
    """Add `GET /api/{client,mitra,shared}/openapi.json` to the auth function's table."""
    from shared.identity.policies import OPEN

    for audience in PUBLIC_AUDIENCES:

        def document(call: Call[None], audience: str = audience) -> dict[str, Any]:
            return _audience_document(audience)

        document.__name__ = f"openapi_{audience}"
        api.get(f"/api/{audience}/openapi.json", auth=OPEN, summary="This OpenAPI document")(
            document
        )


def serve_own_document(api: Api, prefix: str, title: str) -> None:
    """Add `GET <prefix>openapi.json` describing this function's own routes."""
    from shared.identity.policies import OPEN

    cache: dict[str, Any] = {}

    def document(call: Call[None]) -> dict[str, Any]:
        if not cache:
            cache.update(build_document([api], prefix, title))
        return cache

    document.__name__ = "openapi_document"
    api.get(f"{prefix}openapi.json", auth=OPEN, summary="This OpenAPI document")(document)
