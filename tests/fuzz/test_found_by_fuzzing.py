"""Regressions the fuzzer found, pinned as plain tests so they fail with a readable message."""

from __future__ import annotations

from tests.admin.conftest import SEEDED_EMAIL, SEEDED_PASSWORD, login
from tests.conftest import bearer


def test_nul_character_in_a_query_is_a_400_not_a_500(admin_api):
    operator = bearer(login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD).json()["token"])

    response = admin_api.get("/api/admin/mitras", params={"q": "a\x00b"}, headers=operator)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_nul_character_in_a_body_is_refused_and_changes_nothing(api, make_client):
    client = make_client("Nama Awal")

    response = api.patch(
        "/api/client/auth/me", json={"display_name": "Nama\x00Baru"}, headers=client.headers
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    me = api.get("/api/client/auth/me", headers=client.headers).json()
    assert me["display_name"] == "Nama Awal"


def test_path_the_framework_cannot_route_answers_the_contract_error_shape(api, admin_api):
    for http in (api, admin_api):
        response = http.get("/api/admin/admins/%0A")

        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == "not_found"


def test_wrong_password_on_operator_login_is_documented_as_401(admin_api):
    document = admin_api.get("/api/admin/openapi.json").json()

    responses = document["paths"]["/api/admin/auth/login"]["post"]["responses"]

    assert "401" in responses
    assert login(admin_api, "nobody@halobestie.test", "wrong-password").status_code == 401


def test_xendit_webhook_declares_its_callback_token_scheme(api):
    document = api.get("/api/shared/openapi.json").json()

    operation = document["paths"]["/api/shared/webhooks/xendit/invoice"]["post"]

    assert operation["security"] == [{"xenditCallbackToken": []}]
    assert document["components"]["securitySchemes"]["xenditCallbackToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-callback-token",
    }
    assert "401" in operation["responses"]
