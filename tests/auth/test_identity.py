"""Client and mitra identity over real HTTP with real emulator tokens."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import bearer, random_phone


def test_anonymous_client_registers_once_and_gets_the_trial(api, accounts, database):
    account = accounts.sign_in_anonymously()

    first = api.post(
        "/api/client/auth/register",
        json={"display_name": "  Sari  "},
        headers=bearer(account.id_token),
    )
    again = api.post(
        "/api/client/auth/register",
        json={"display_name": "Sari Lain"},
        headers=bearer(account.id_token),
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["display_name"] == "Sari"
    assert first.json()["registered"] is False
    assert first.json()["sign_in_provider"] == "anonymous"
    with database.connect() as connection:
        trial = connection.execute(
            sa.text("SELECT sum(sessions) FROM credit_ledger WHERE client_id = :id"),
            {"id": first.json()["id"]},
        ).scalar_one()
    assert trial == 1


def test_me_before_registering_says_profile_required(api, accounts):
    # Not the contract's `registration_required`: that code is 403 on pairing and payments
    # (link the account); one code has one status (README "Decisions").
    account = accounts.sign_in_anonymously()

    response = api.get("/api/client/auth/me", headers=bearer(account.id_token))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "profile_required"


def test_client_renames_and_reads_profile(api, make_client):
    client = make_client("Nama Lama")

    renamed = api.patch(
        "/api/client/auth/me", json={"display_name": "Nama Baru"}, headers=client.headers
    )
    me = api.get("/api/client/auth/me", headers=client.headers)

    assert renamed.status_code == 200
    assert me.json()["display_name"] == "Nama Baru"
    assert me.json()["status"] == "active"


def test_linking_anonymous_account_to_phone_keeps_uid_and_registers(api, accounts, make_client):
    client = make_client()
    linked = accounts.link_phone(client.account, random_phone())

    response = api.post("/api/client/auth/link", headers=bearer(linked.id_token))

    assert linked.uid == client.account.uid
    assert response.status_code == 200
    assert response.json()["id"] == client.id
    assert response.json()["registered"] is True
    assert response.json()["sign_in_provider"] == "phone"


def test_linking_to_google_registers(api, accounts, make_client):
    client = make_client()
    linked = accounts.link_google(client.account, "sari@example.com")

    response = api.post("/api/client/auth/link", headers=bearer(linked.id_token))

    assert response.status_code == 200
    assert response.json()["registered"] is True
    assert response.json()["sign_in_provider"] == "google.com"


def test_link_with_a_still_anonymous_token_is_refused(api, make_client):
    client = make_client()

    response = api.post("/api/client/auth/link", headers=client.headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    me = api.get("/api/client/auth/me", headers=client.headers).json()
    assert me["registered"] is False


def test_mitra_logs_in_with_phone_otp(api, make_mitra):
    mitra = make_mitra("Bestie Dewi")

    me = api.get("/api/mitra/auth/me", headers=mitra.headers)

    assert me.status_code == 200
    assert me.json() == {
        "id": mitra.id,
        "name": "Bestie Dewi",
        "status": "active",
        "photo_url": None,
    }


def test_unknown_phone_is_not_a_mitra(api, accounts, database):
    phone = random_phone()
    account = accounts.sign_in_with_phone(phone)

    response = api.post("/api/mitra/auth/login", headers=bearer(account.id_token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_mitra"
    with database.connect() as connection:
        linked = connection.execute(
            sa.text("SELECT count(*) FROM mitras WHERE firebase_uid = :uid"), {"uid": account.uid}
        ).scalar_one()
    assert linked == 0


def test_mitra_login_with_a_non_phone_token_is_not_a_mitra(api, accounts):
    account = accounts.sign_in_anonymously()

    response = api.post("/api/mitra/auth/login", headers=bearer(account.id_token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_mitra"


def test_suspended_mitra_cannot_log_in(api, accounts, database):
    phone = random_phone()
    with database.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO mitras (name, phone, status) VALUES ('Mitra S', :p, 'suspended')"),
            {"p": phone},
        )
    account = accounts.sign_in_with_phone(phone)

    response = api.post("/api/mitra/auth/login", headers=bearer(account.id_token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "suspended"


def test_mitra_logout_answers_no_content(api, make_mitra):
    mitra = make_mitra()

    response = api.post("/api/mitra/auth/logout", headers=mitra.headers)

    assert response.status_code == 204
    assert response.content == b""


def test_public_config_has_the_contract_fields(api):
    response = api.get("/api/shared/config")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "heartbeat_interval_s",
        "heartbeat_timeout_s",
        "search_window_s",
        "trial_sessions",
        "anonymity",
    }
    assert body["heartbeat_timeout_s"] >= 2 * body["heartbeat_interval_s"]
