"""Client (user) management from the control center."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from tests.admin.conftest import audit_rows
from tests.conftest import random_phone


def test_search_by_name_prefix_id_and_phone(admin_api, viewer, make_client, accounts, api):
    tag = secrets.token_hex(3)
    named = make_client(f"Klien{tag}")
    phone = random_phone()
    account = accounts.sign_in_with_phone(phone)
    registered = api.post(
        "/api/client/auth/register",
        json={"display_name": "Klien Bertelepon"},
        headers={"Authorization": f"Bearer {account.id_token}"},
    ).json()

    by_name = admin_api.get(
        "/api/admin/users", params={"q": f"klien{tag}".upper()}, headers=viewer.headers
    ).json()
    by_id = admin_api.get("/api/admin/users", params={"q": named.id}, headers=viewer.headers).json()
    by_phone = admin_api.get("/api/admin/users", params={"q": phone}, headers=viewer.headers).json()

    assert [u["id"] for u in by_name["items"]] == [named.id]
    assert [u["id"] for u in by_id["items"]] == [named.id]
    assert [u["id"] for u in by_phone["items"]] == [registered["id"]]
    assert by_phone["items"][0]["phone"] == phone


def test_user_detail_shows_the_trial_balance(admin_api, viewer, make_client):
    client = make_client("Klien Dilihat")

    response = admin_api.get(f"/api/admin/users/{client.id}", headers=viewer.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Klien Dilihat"
    assert body["trial_sessions_left"] >= 0 and body["credits"] == 0


def test_suspended_client_is_refused_at_once_and_reactivation_restores(
    admin_api, api, admin, database, make_client
):
    client = make_client("Klien Nakal")

    suspended = admin_api.patch(
        f"/api/admin/users/{client.id}", json={"status": "suspended"}, headers=admin.headers
    )

    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    refused = api.get("/api/client/auth/me", headers=client.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "suspended"
    entry = audit_rows(database, client.id)[-1]
    assert (entry.action, entry.before, entry.after) == (
        "client.update",
        {"status": "active"},
        {"status": "suspended"},
    )
    admin_api.patch(
        f"/api/admin/users/{client.id}", json={"status": "active"}, headers=admin.headers
    )
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 200


def test_suspending_a_searching_client_cancels_the_open_request(
    admin_api, api, admin, database, make_client, make_mitra
):
    mitra = make_mitra("Mitra Siaga")
    assert (
        api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers).status_code
        == 200
    )
    client = make_client("Klien Mencari")
    request = api.post("/api/client/pairing-requests", headers=client.headers)
    assert request.status_code == 201, request.text
    assert request.json()["status"] == "searching"

    admin_api.patch(
        f"/api/admin/users/{client.id}", json={"status": "suspended"}, headers=admin.headers
    )

    with database.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM pairing_requests WHERE id = :id"),
            {"id": request.json()["id"]},
        ).scalar_one()
    assert status == "cancelled"
    api.put("/api/mitra/presence", json={"status": "offline"}, headers=mitra.headers)


def test_viewer_cannot_suspend_and_bad_status_is_named(admin_api, viewer, admin, make_client, api):
    client = make_client("Klien Aman")

    by_viewer = admin_api.patch(
        f"/api/admin/users/{client.id}", json={"status": "suspended"}, headers=viewer.headers
    )
    bad = admin_api.patch(
        f"/api/admin/users/{client.id}", json={"status": "banned"}, headers=admin.headers
    )

    assert by_viewer.status_code == 403
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["fields"][0]["field"] == "status"
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 200


def test_unknown_user_is_not_found(admin_api, admin):
    missing = "00000000-0000-4000-8000-000000000001"

    response = admin_api.patch(
        f"/api/admin/users/{missing}", json={"status": "suspended"}, headers=admin.headers
    )

    assert response.status_code == 404
