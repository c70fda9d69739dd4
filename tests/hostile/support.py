"""What the hostile-input tests share: every route of every function (from the route tables
themselves, so a new route is covered the moment it is declared) and URL building."""

from __future__ import annotations

import base64
import importlib
import json
import re
import uuid

from shared.catalogue import load_catalogue
from shared.web.api import Route

PATH_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _routes() -> list[Route]:
    found = []
    for entry in load_catalogue().http_functions():
        found.extend(importlib.import_module(f"functions.{entry.source}.routes").api.routes)
    return found


ROUTES = _routes()


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def url(route: Route) -> str:
    return PATH_PARAM.sub(lambda _: str(uuid.uuid4()), route.path)


def is_admin(route: Route) -> bool:
    return route.path.startswith("/api/admin/")


def b64url(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def cursor_of(value: object) -> str:
    """A cursor as this API encodes them (base64url of a JSON array), around any value."""
    return b64url(json.dumps(value))


def assert_contract_error(response, *statuses: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}, error
