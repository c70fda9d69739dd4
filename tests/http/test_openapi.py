"""The OpenAPI documents are generated from the route tables, served per audience, and valid."""

from __future__ import annotations

import importlib

import pytest
from openapi_spec_validator import validate

from shared.catalogue import load_catalogue
from shared.web.openapi import openapi_path


@pytest.mark.parametrize("audience", ["client", "mitra", "shared"])
def test_public_documents_are_valid_openapi_31(api, audience):
    response = api.get(f"/api/{audience}/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_admin_document_is_valid_and_only_internal(api, admin_api):
    document = admin_api.get("/api/admin/openapi.json").json()

    validate(document)
    assert api.get("/api/admin/openapi.json").status_code == 404


def test_every_route_is_documented(api, admin_api):
    documented: set[tuple[str, str]] = set()
    for audience in ("client", "mitra", "shared"):
        for path, item in api.get(f"/api/{audience}/openapi.json").json()["paths"].items():
            documented |= {(method.upper(), path) for method in item}
    for path, item in admin_api.get("/api/admin/openapi.json").json()["paths"].items():
        documented |= {(method.upper(), path) for method in item}

    missing = []
    for entry in load_catalogue().http_functions():
        api_table = importlib.import_module(f"functions.{entry.source}.routes").api
        for route in api_table.routes:
            if route.path.endswith("/openapi.json"):
                continue
            if (route.method, openapi_path(route.path)) not in documented:
                missing.append(f"{route.method} {route.path}")
    assert missing == []
