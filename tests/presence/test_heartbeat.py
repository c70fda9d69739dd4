"""POST /api/mitra/presence/heartbeat: the hot path, lazy expiry, suspension."""

from __future__ import annotations

import sqlalchemy as sa

from shared import valkey
from shared.domain import presence
from shared.store.live import keys
from tests.support.presence import is_available, lapse, log_rows

URL = "/api/mitra/presence"
HEARTBEAT = "/api/mitra/presence/heartbeat"


def _online(api, make_mitra, **options):
    mitra = make_mitra(**options)
    assert api.put(URL, json={"status": "online"}, headers=mitra.headers).status_code == 200
    return mitra


def test_heartbeat_refreshes_the_last_heartbeat(api, make_mitra):
    mitra = _online(api, make_mitra)
    before = valkey.client().zscore(keys.HEARTBEATS, mitra.id)

    response = api.post(HEARTBEAT, headers=mitra.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert valkey.client().zscore(keys.HEARTBEATS, mitra.id) >= before


def test_heartbeats_keep_a_mitra_available_past_the_timeout(api, make_mitra):
    mitra = _online(api, make_mitra)
    lapse(mitra.id, extra_s=-5)  # 5 s before lapsing

    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204

    assert is_available(mitra.id)
    assert api.get(URL, headers=mitra.headers).json()["status"] == "online"


def test_silent_mitra_is_unavailable_after_the_timeout_without_a_sweep(api, database, make_mitra):
    mitra = _online(api, make_mitra)

    lapse(mitra.id)

    assert not is_available(mitra.id)
    response = api.post(HEARTBEAT, headers=mitra.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_online"
    assert log_rows(database, mitra.id) == [("online", "manual")]  # the sweep makes it durable


def test_heartbeat_from_an_offline_mitra_is_not_online(api, make_mitra):
    mitra = make_mitra()

    response = api.post(HEARTBEAT, headers=mitra.headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_online"
    assert valkey.client().zscore(keys.HEARTBEATS, mitra.id) is None


def test_heartbeat_after_toggling_off_is_not_online(api, make_mitra):
    mitra = _online(api, make_mitra)
    api.put(URL, json={"status": "offline"}, headers=mitra.headers)

    response = api.post(HEARTBEAT, headers=mitra.headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_online"


def test_heartbeat_with_an_empty_uid_cache_resolves_and_caches_it(api, make_mitra):
    mitra = _online(api, make_mitra)
    valkey.client().delete(keys.uid_cache(mitra.account.uid))

    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204

    assert valkey.client().get(keys.uid_cache(mitra.account.uid)) == mitra.id


def test_suspension_refuses_the_very_next_heartbeat(api, database, make_mitra):
    mitra = _online(api, make_mitra)
    assert api.post(HEARTBEAT, headers=mitra.headers).status_code == 204  # UID now cached
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE mitras SET status = 'suspended' WHERE id = :id"), {"id": mitra.id}
        )
    # What the admin function's suspend does after its UPDATE:
    presence.go_offline(mitra.id, "suspended")
    presence.forget_mitra_identity(mitra.account.uid)

    response = api.post(HEARTBEAT, headers=mitra.headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "suspended"
    assert log_rows(database, mitra.id) == [("online", "manual"), ("offline", "suspended")]
    assert not is_available(mitra.id)


def test_heartbeat_with_a_client_token_is_forbidden(api, make_client):
    client = make_client()

    response = api.post(HEARTBEAT, headers=client.headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert valkey.client().get(keys.uid_cache(client.account.uid)) is None


def test_heartbeat_without_a_token_is_unauthenticated(api):
    response = api.post(HEARTBEAT)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
