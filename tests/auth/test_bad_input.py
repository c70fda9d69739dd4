"""Bad input gets the contract's status and error code, and changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import bearer


def _client_count(database) -> int:
    with database.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM clients")).scalar_one()


@pytest.fixture
def anonymous(accounts):
    return accounts.sign_in_anonymously()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "invalid_request"),
        (b"", "application/json", 400, "invalid_request"),
        (b'{"display_name": "Sari"}', "text/plain", 415, "unsupported_media_type"),
        (b'{"display_name": 42}', "application/json", 400, "invalid_request"),
        (b'{"display_name": "S"}', "application/json", 400, "invalid_request"),
        (b'{"display_name": "' + b"x" * 33 + b'"}', "application/json", 400, "invalid_request"),
        (b'{"display_name": "Sa\\u0000ri"}', "application/json", 400, "invalid_request"),
        (b'{"display_name": "Sa\\nri"}', "application/json", 400, "invalid_request"),
        (b'{"display_name": "Sari", "role": "admin"}', "application/json", 400, "invalid_request"),
        (b'["Sari"]', "application/json", 400, "invalid_request"),
        (
            b'{"display_name": "' + b"x" * 70_000 + b'"}',
            "application/json",
            413,
            "payload_too_large",
        ),
    ],
    ids=[
        "malformed",
        "empty",
        "wrong-type",
        "number",
        "too-short",
        "too-long",
        "nul",
        "newline",
        "unknown-field",
        "array",
        "oversized",
    ],
)
def test_register_refuses_bad_bodies(api, database, anonymous, body, content_type, status, code):
    before = _client_count(database)

    response = api.post(
        "/api/client/auth/register",
        content=body,
        headers={**bearer(anonymous.id_token), "Content-Type": content_type},
    )

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text
    assert _client_count(database) == before


def test_invalid_field_is_named(api, anonymous):
    response = api.post(
        "/api/client/auth/register",
        json={"display_name": "S", "extra": 1},
        headers=bearer(anonymous.id_token),
    )

    fields = {item["field"] for item in response.json()["error"]["details"]["fields"]}
    assert fields == {"display_name", "extra"}


def test_unknown_route_is_404_in_the_error_shape(api):
    response = api.get("/api/client/auth/nope")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unrouted_prefix_is_404_in_the_error_shape(api):
    response = api.get("/api/nothing/here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_with_allow(api):
    response = api.delete("/api/client/auth/register")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"


def test_every_response_carries_a_request_id(api):
    ok = api.get("/api/shared/config")
    error = api.get("/api/client/auth/me")
    echoed = api.get("/api/shared/config", headers={"X-Request-Id": "req-1234567890"})

    assert len(ok.headers["X-Request-Id"]) >= 16
    assert len(error.headers["X-Request-Id"]) >= 16
    assert ok.headers["X-Request-Id"] != error.headers["X-Request-Id"]
    assert echoed.headers["X-Request-Id"] == "req-1234567890"


def test_admin_routes_do_not_exist_on_the_public_listener(api, admin_api):
    public = api.get("/api/admin/openapi.json")
    internal = admin_api.get("/api/admin/openapi.json")
    login = api.post("/api/admin/auth/login", json={"email": "a@b.c", "password": "x" * 12})

    assert public.status_code == 404
    assert login.status_code == 404
    assert internal.status_code == 200


def test_public_routes_do_not_exist_on_the_admin_listener(admin_api):
    assert admin_api.get("/api/shared/config").status_code == 404
