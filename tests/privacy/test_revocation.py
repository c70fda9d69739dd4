"""Identity that revokes: a disabled or deleted Firebase user is refused on every route once
the sweeper's `revocations` step has seen it (within REVOCATION_CHECK_S + one sweep), the
heartbeat included, with no Firebase call on any request path."""

from __future__ import annotations

import time

from firebase_admin import auth

from shared.identity import firebase
from tests.conftest import REVOCATION_CHECK_S


def _disable(uid: str) -> None:
    auth.update_user(uid, disabled=True, app=firebase._firebase_app())


def test_a_disabled_client_is_refused_after_the_next_check(api, stack, make_client):
    client = make_client("Klien Dinonaktifkan")
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 200
    # Checked once while still enabled: the next check is REVOCATION_CHECK_S later.
    assert stack.sweep_now() == 200
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 200

    _disable(client.account.uid)
    time.sleep(REVOCATION_CHECK_S + 0.2)
    assert stack.sweep_now() == 200

    for method, path in (
        ("GET", "/api/client/auth/me"),
        ("GET", "/api/client/entitlement"),
        ("POST", "/api/client/pairing-requests"),
        ("POST", "/api/client/auth/register"),
    ):
        answer = api.request(
            method, path, headers=client.headers, json={"display_name": "Klien Lagi"}
        )
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_disabled_mitra_is_refused_on_the_heartbeat(api, stack, make_mitra):
    mitra = make_mitra("Mitra Dinonaktifkan")
    online = api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers)
    assert online.status_code == 200
    beat = "/api/mitra/presence/heartbeat"
    assert api.post(beat, headers=mitra.headers).status_code == 204

    _disable(mitra.account.uid)
    time.sleep(REVOCATION_CHECK_S + 0.2)
    assert stack.sweep_now() == 200

    refused = api.post(beat, headers=mitra.headers)
    assert refused.status_code == 401, refused.text
    assert api.get("/api/mitra/auth/me", headers=mitra.headers).status_code == 401


def test_a_deleted_firebase_user_is_refused(api, stack, make_client):
    client = make_client("Klien Terhapus")
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 200
    auth.delete_user(client.account.uid, app=firebase._firebase_app())
    time.sleep(REVOCATION_CHECK_S + 0.2)
    assert stack.sweep_now() == 200
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 401
