"""Account erasure over real HTTP: nothing personal left in any table or Valkey key, the
Firebase user gone, both sides of the active session told, the ledger untouched, the same
answer twice; the operator's erasure; a mitra's phone erased."""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from firebase_admin import auth

from shared import valkey
from shared.identity import firebase
from tests.conftest import bearer, random_phone
from tests.privacy.support import tables_holding, valkey_holding
from tests.support.sessions import grant_credits, start_session


def _ledger_sum(database: sa.Engine, client_id: str) -> int:
    with database.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT coalesce(sum(sessions), 0) FROM credit_ledger WHERE client_id = :c"
                ),
                {"c": client_id},
            ).scalar_one()
        )


def _firebase_has(uid: str) -> bool:
    try:
        auth.get_user(uid, app=firebase._firebase_app())
    except auth.UserNotFoundError:
        return False
    return True


def _identified_client(api, accounts, name: str):  # type: ignore[no-untyped-def]
    """A client signed in with Google (an email) and a linked phone, registered as `name`."""
    email, phone = f"privasi-{secrets.token_hex(5)}@example.test", random_phone()
    account = accounts.link_phone(accounts.sign_in_with_google(email), phone)
    response = api.post(
        "/api/client/auth/register", json={"display_name": name}, headers=bearer(account.id_token)
    )
    assert response.status_code == 201, response.text
    return account, response.json()["id"], email, phone


def test_deletion_leaves_nothing_personal_and_answers_the_same_twice(
    api, accounts, database, make_mitra
):
    name = f"Privasi{secrets.token_hex(4)}"
    account, client_id, email, phone = _identified_client(api, accounts, name)
    headers = bearer(account.id_token)
    device = "dev" + secrets.token_hex(16)
    assert (
        api.put(
            f"/api/client/devices/{device}",
            json={"platform": "android", "app_version": "1.0.0", "locale": "id-ID"},
            headers=headers,
        ).status_code
        == 201
    )
    grant_credits(client_id, 2, f"privacy-{secrets.token_hex(6)}")
    mitra = make_mitra("Mitra Privasi")
    session_id = start_session(client_id, mitra.id)
    ended_before = _ledger_sum(database, client_id)
    # The scan sees them while the account lives (so its empty answer later means something).
    assert len(tables_holding(database, [name, email, phone, account.uid])) >= 4

    pubsub = valkey.client().pubsub()
    pubsub.subscribe(f"events:client:{client_id}", f"events:mitra:{mitra.id}")
    for _ in range(2):
        assert pubsub.get_message(timeout=2.0)["type"] == "subscribe"

    first = api.delete("/api/client/auth/me", headers=headers)

    assert first.status_code == 200, first.text
    body = first.json()
    assert body["client_id"] == client_id and body["status"] == "erased"
    assert body["ended_session_id"] == str(session_id)
    assert body["devices_removed"] == 1 and body["firebase_user_deleted"] is True
    assert body["erased_by"] == "client"
    # Both sides were told through the ordinary end path; the mitra's view shows no name.
    told = set()
    while (message := pubsub.get_message(timeout=2.0)) is not None:
        if message["type"] == "message" and json.loads(message["data"])["type"] == "session.ended":
            told.add(message["channel"])
    pubsub.close()
    assert told == {f"events:client:{client_id}", f"events:mitra:{mitra.id}"}
    seen = api.get(f"/api/mitra/sessions/{session_id}", headers=mitra.headers).json()
    assert seen["status"] == "ended" and seen["client"]["display_name"] is None
    # Nothing personal anywhere.
    needles = [name, email, phone, account.uid]
    assert tables_holding(database, needles) == []
    assert valkey_holding(needles) == []
    assert not _firebase_has(account.uid)
    assert _ledger_sum(database, client_id) == ended_before

    # The token still verifies for up to an hour: the repeat answers the same, changes nothing.
    again = api.delete("/api/client/auth/me", headers=headers)
    assert again.status_code == 200 and again.json() == body
    assert api.get("/api/client/auth/me/export", headers=headers).status_code == 404
    assert api.get("/api/client/auth/me", headers=headers).status_code == 404
    # The old token cannot bring the profile back.
    revived = api.post("/api/client/auth/register", json={"display_name": name}, headers=headers)
    assert revived.status_code == 401

    # The same person signing in again is a brand-new client with no link to the old one.
    fresh = accounts.sign_in_with_google(email)
    assert fresh.uid != account.uid
    renewed = api.post(
        "/api/client/auth/register", json={"display_name": name}, headers=bearer(fresh.id_token)
    )
    assert renewed.status_code == 201 and renewed.json()["id"] != client_id


def test_operator_erasure_is_superadmin_only_cancels_the_search_and_is_idempotent(
    api, admin_api, accounts, database, make_mitra, root, admin, viewer
):
    mitra = make_mitra("Mitra Siaga Privasi")
    assert (
        api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers).status_code
        == 200
    )
    name = f"Privasi{secrets.token_hex(4)}"
    account, client_id, email, phone = _identified_client(api, accounts, name)
    request = api.post("/api/client/pairing-requests", headers=bearer(account.id_token))
    assert request.status_code in (201, 202), request.text
    path = f"/api/admin/users/{client_id}/erase"
    reason = "Permintaan penghapusan lewat email"
    try:
        for refused in (admin, viewer):
            answer = admin_api.post(path, json={"reason": reason}, headers=refused.headers)
            assert answer.status_code == 403
        assert admin_api.post(path, json={}, headers=root.headers).status_code == 400
        assert api.get("/api/client/auth/me", headers=bearer(account.id_token)).status_code == 200

        erased = admin_api.post(path, json={"reason": reason}, headers=root.headers)

        assert erased.status_code == 200, erased.text
        assert erased.json()["cancelled_request_id"] == request.json()["id"]
        assert erased.json()["erased_by"] == "operator"
        repeat = admin_api.post(path, json={"reason": reason}, headers=root.headers)
        assert repeat.status_code == 200 and repeat.json() == erased.json()
        needles = [name, email, phone, account.uid]
        assert tables_holding(database, needles) == []
        assert valkey_holding(needles) == []
        assert not _firebase_has(account.uid)
        with database.connect() as connection:
            entry = connection.execute(
                sa.text(
                    "SELECT operator_id, after FROM audit_log"
                    " WHERE action = 'client.erase' AND target_id = :id"
                ),
                {"id": client_id},
            ).one()
        assert str(entry.operator_id) == root.id and entry.after["reason"] == reason
        unknown = admin_api.post(
            "/api/admin/users/00000000-0000-4000-8000-000000000000/erase",
            json={"reason": reason},
            headers=root.headers,
        )
        assert unknown.status_code == 404
    finally:
        api.put("/api/mitra/presence", json={"status": "offline"}, headers=mitra.headers)


def test_a_deactivated_mitras_phone_is_erased_on_request_history_kept(
    api, admin_api, database, make_mitra, root, admin
):
    mitra = make_mitra("Mitra Berhenti")
    path = f"/api/admin/mitras/{mitra.id}/erase-phone"
    body = {"reason": "Mitra meminta nomor dihapus"}
    assert admin_api.post(path, json=body, headers=admin.headers).status_code == 403
    active = admin_api.post(path, json=body, headers=root.headers)
    assert active.status_code == 409
    admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"status": "suspended"}, headers=root.headers
    )

    erased = admin_api.post(path, json=body, headers=root.headers)

    assert erased.status_code == 200, erased.text
    assert erased.json()["phone"] is None and erased.json()["name"] == "Mitra Berhenti"
    assert admin_api.post(path, json=body, headers=root.headers).json() == erased.json()
    assert tables_holding(database, [mitra.phone, mitra.account.uid]) == []
    assert valkey_holding([mitra.phone, mitra.account.uid]) == []
    assert not _firebase_has(mitra.account.uid)


@pytest.mark.parametrize("reason", ["", "  x ", "a" * 501, 5, None])
def test_operator_erasure_refuses_bad_reasons(admin_api, root, make_client, reason):
    client = make_client("Klien Tetap")
    answer = admin_api.post(
        f"/api/admin/users/{client.id}/erase", json={"reason": reason}, headers=root.headers
    )
    assert answer.status_code == 400
    assert (
        admin_api.get(f"/api/admin/users/{client.id}", headers=root.headers).json()["display_name"]
        == "Klien Tetap"
    )


def test_racing_deletions_answer_alike(api, make_client, database):
    client = make_client("Klien Ganda")

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda _: api.delete("/api/client/auth/me", headers=client.headers), range(4))
        )

    assert [a.status_code for a in answers] == [200] * 4
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    with database.connect() as connection:
        entries = connection.execute(
            sa.text(
                "SELECT count(*) FROM audit_log WHERE action = 'client.erase' AND target_id = :id"
            ),
            {"id": client.id},
        ).scalar_one()
    assert entries == 1


def test_an_erased_accounts_uid_leaves_valkey_and_its_old_token_cannot_put_it_back(
    api, accounts, database
):
    """The uid also sat in key names and values outside the profile: unredeemed stream
    tickets, the ticket rate limit, the revocation check's lists. None survive the erasure,
    and the still-valid token, used on routes afterwards, writes none back."""
    name = f"Privasi{secrets.token_hex(4)}"
    account, _client_id, email, phone = _identified_client(api, accounts, name)
    headers = bearer(account.id_token)
    for _ in range(2):
        assert api.post("/api/client/stream-tickets", headers=headers).status_code == 201
    assert valkey_holding([account.uid]) != []

    assert api.delete("/api/client/auth/me", headers=headers).status_code == 200
    needles = [name, email, phone, account.uid]
    assert valkey_holding(needles) == []
    for method, path in [
        ("GET", "/api/client/auth/me"),
        ("GET", "/api/client/auth/me/export"),
        ("DELETE", "/api/client/auth/me"),
        ("POST", "/api/client/stream-tickets"),
        ("POST", "/api/client/pairing-requests"),
        ("GET", "/api/client/sessions"),
        ("POST", "/api/client/auth/register"),
    ]:
        answer = api.request(method, path, headers=headers, json={"display_name": name})
        assert answer.status_code < 500, (method, path, answer.text)

    assert valkey_holding(needles) == []
    assert tables_holding(database, needles) == []


def test_an_erased_mitra_phone_leaves_no_uid_in_valkey_after_the_old_token_returns(
    api, admin_api, make_mitra, root
):
    mitra = make_mitra("Mitra Lama")
    assert api.post("/api/mitra/stream-tickets", headers=mitra.headers).status_code == 201
    admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"status": "suspended"}, headers=root.headers
    )
    body = {"reason": "Mitra meminta nomor dihapus"}
    erased = admin_api.post(
        f"/api/admin/mitras/{mitra.id}/erase-phone", json=body, headers=root.headers
    )
    assert erased.status_code == 200, erased.text

    for method, path in [
        ("GET", "/api/mitra/auth/me"),
        ("POST", "/api/mitra/stream-tickets"),
        ("PUT", "/api/mitra/presence"),
        ("POST", "/api/mitra/presence/heartbeat"),
    ]:
        answer = api.request(method, path, headers=mitra.headers, json={"status": "online"})
        assert answer.status_code == 401, (method, path, answer.text)
    assert valkey_holding([mitra.phone, mitra.account.uid]) == []
