"""The data export over real HTTP: exactly the caller's data, nobody else's; documented in
the public OpenAPI document."""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa

from tests.conftest import bearer
from tests.support.sessions import grant_credits, start_session

DEVICE = {"platform": "ios", "app_version": "2.0.1", "locale": "en-ID"}


def _person(api, accounts, make_mitra):  # type: ignore[no-untyped-def]
    email = f"ekspor-{secrets.token_hex(5)}@example.test"
    account = accounts.sign_in_with_google(email)
    headers = bearer(account.id_token)
    name = f"Ekspor{secrets.token_hex(3)}"
    client_id = api.post(
        "/api/client/auth/register", json={"display_name": name}, headers=headers
    ).json()["id"]
    token = "exp" + secrets.token_hex(16)
    assert api.put(f"/api/client/devices/{token}", json=DEVICE, headers=headers).status_code == 201
    grant_credits(client_id, 3, f"export-{secrets.token_hex(6)}")
    package = api.get("/api/client/packages", headers=headers).json()["items"][0]
    paid = api.post("/api/client/payments", json={"package_id": package["id"]}, headers=headers)
    assert paid.status_code == 201, paid.text
    mitra = make_mitra("Mitra Ekspor")
    session_id = start_session(client_id, mitra.id)
    words = f"rahasia-{secrets.token_hex(6)}"
    for side, who in (("client", headers), ("mitra", mitra.headers)):
        sent = api.post(
            f"/api/{side}/sessions/{session_id}/messages",
            json={"client_message_id": f"{side}-1", "text": f"{words} dari {side}"},
            headers=who,
        )
        assert sent.status_code == 201, sent.text
    api.post(f"/api/client/sessions/{session_id}/end", json={}, headers=headers)
    return headers, client_id, name, email, token, words


def _ids(database, sql: str, client_id: str) -> set[str]:
    with database.connect() as connection:
        return {str(v) for v in connection.execute(sa.text(sql), {"c": client_id}).scalars()}


def test_export_holds_exactly_the_callers_data(api, accounts, database, make_mitra):
    mine = _person(api, accounts, make_mitra)
    other = _person(api, accounts, make_mitra)
    headers, client_id, name, email, token, words = mine

    response = api.get("/api/client/auth/me/export", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["profile"]["id"] == client_id
    assert (body["profile"]["display_name"], body["profile"]["email"]) == (name, email)
    assert {s["id"] for s in body["sessions"]} == _ids(
        database, "SELECT id FROM sessions WHERE client_id = :c", client_id
    )
    assert body["sessions"] and body["sessions"][0]["mitra"]["name"]
    assert {p["id"] for p in body["payments"]} == _ids(
        database, "SELECT id FROM payments WHERE client_id = :c", client_id
    )
    assert {str(e["id"]) for e in body["ledger"]} == _ids(
        database, "SELECT id FROM credit_ledger WHERE client_id = :c", client_id
    )
    assert [d["token"] for d in body["devices"]] == [token]
    assert body["balance"]["credits"] == 3
    # The chat's messages, both sides, listed without their text (docs/data.md).
    assert [(m["seq"], m["sender"]) for m in body["chat_messages"]] == [(1, "client"), (2, "mitra")]
    assert {m["id"] for m in body["chat_messages"]} == _ids(
        database,
        "SELECT m.id FROM chat_messages m JOIN sessions s ON s.id = m.session_id"
        " WHERE s.client_id = :c",
        client_id,
    )
    text = json.dumps(body)
    assert words not in text
    _, other_id, other_name, other_email, other_token, other_words = other
    for foreign in (other_id, other_name, other_email, other_token, other_words):
        assert foreign not in text
    for secret in ("firebase_uid", "phone_number", "+62811"):  # nor any mitra's phone
        assert secret not in text


def test_export_is_documented_in_the_openapi_document(api):
    document = api.get("/api/client/openapi.json")
    assert document.status_code == 200
    spec = document.json()
    operation = spec["paths"]["/api/client/auth/me/export"]["get"]
    assert "ExportOut" in json.dumps(operation["responses"]["200"])
    fields = spec["components"]["schemas"]["ExportOut"]["properties"]
    assert set(fields) >= {
        "profile",
        "sessions",
        "pairing_requests",
        "payments",
        "ledger",
        "chat_messages",
    }
    assert "delete" in spec["paths"]["/api/client/auth/me"]


def test_a_suspended_client_may_still_export(api, database, make_client):
    client = make_client("Klien Ditangguhkan")
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE clients SET status = 'suspended' WHERE id = :id"), {"id": client.id}
        )
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 403

    exported = api.get("/api/client/auth/me/export", headers=client.headers)

    assert exported.status_code == 200 and exported.json()["profile"]["status"] == "suspended"


def test_export_without_a_profile_is_404(api, accounts):
    account = accounts.sign_in_anonymously()
    answer = api.get("/api/client/auth/me/export", headers=bearer(account.id_token))
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "profile_required"
