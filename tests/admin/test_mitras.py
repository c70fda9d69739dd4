"""Mitra management from the control center, over HTTP against the real stack."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from shared import valkey
from shared.store.live import keys
from tests.admin.conftest import audit_rows
from tests.conftest import random_phone
from tests.support.presence import resync, set_beat


def _mitra_count(database) -> int:
    with database.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM mitras")).scalar_one()


def _mitra_row(database, mitra_id: str) -> sa.Row:
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT name, phone, status, max_customers FROM mitras WHERE id = :id"),
            {"id": mitra_id},
        ).one()


def _create(admin_api, operator, **fields):
    body = {"name": "Bestie Baru", "phone": random_phone(), **fields}
    response = admin_api.post("/api/admin/mitras", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _go_online(api, mitra) -> None:
    response = api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers)
    assert response.status_code == 200, response.text


def test_admin_creates_a_mitra_who_can_then_log_in_by_phone(
    admin_api, api, admin, accounts, database
):
    phone = random_phone()

    response = admin_api.post(
        "/api/admin/mitras",
        json={"name": "  Bestie Dewi ", "phone": phone, "max_customers": 2},
        headers=admin.headers,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["phone"], created["max_customers"]) == (
        "Bestie Dewi",
        phone,
        2,
    )
    assert created["presence"] == "offline" and created["load"] == 0
    assert valkey.client().hget(keys.CAPACITY, created["id"]) == "2"
    [entry] = audit_rows(database, created["id"])
    assert (entry.action, str(entry.operator_id)) == ("mitra.create", admin.id)
    account = accounts.sign_in_with_phone(phone)
    login = api.post(
        "/api/mitra/auth/login", headers={"Authorization": f"Bearer {account.id_token}"}
    )
    assert login.status_code == 200
    assert login.json()["id"] == created["id"]


def test_duplicate_phone_is_phone_taken_and_creates_nothing(admin_api, admin, database):
    existing = _create(admin_api, admin)
    before = _mitra_count(database)

    response = admin_api.post(
        "/api/admin/mitras",
        json={"name": "Bestie Kembar", "phone": existing["phone"]},
        headers=admin.headers,
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "phone_taken"
    assert _mitra_count(database) == before


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"phone": "081234567890"}, "phone"),
        ({"phone": "+62 812 3456"}, "phone"),
        ({"max_customers": -1}, "max_customers"),
        ({"max_customers": 0}, "max_customers"),
        ({"max_customers": "3"}, "max_customers"),
        ({"name": "A"}, "name"),
        ({"nickname": "x"}, "nickname"),
    ],
    ids=["no-plus", "spaces", "negative", "zero", "string", "short-name", "unknown-field"],
)
def test_bad_mitra_fields_are_named_and_create_nothing(
    admin_api, admin, database, fields, bad_field
):
    before = _mitra_count(database)
    body = {"name": "Bestie Salah", "phone": random_phone(), **fields}

    response = admin_api.post("/api/admin/mitras", json=body, headers=admin.headers)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["details"]["fields"]] == [bad_field]
    assert _mitra_count(database) == before


def test_viewer_may_read_but_not_write_mitras(admin_api, admin, viewer, database):
    mitra = _create(admin_api, admin)
    before = _mitra_count(database)

    read = admin_api.get(f"/api/admin/mitras/{mitra['id']}", headers=viewer.headers)
    create = admin_api.post(
        "/api/admin/mitras",
        json={"name": "Bestie Dilarang", "phone": random_phone()},
        headers=viewer.headers,
    )
    patch = admin_api.patch(
        f"/api/admin/mitras/{mitra['id']}", json={"status": "suspended"}, headers=viewer.headers
    )

    assert read.status_code == 200
    assert create.status_code == patch.status_code == 403
    assert patch.json()["error"]["code"] == "forbidden"
    assert _mitra_count(database) == before
    assert _mitra_row(database, mitra["id"]).status == "active"


def test_unknown_mitra_is_not_found(admin_api, admin):
    missing = "00000000-0000-4000-8000-000000000000"

    assert admin_api.get(f"/api/admin/mitras/{missing}", headers=admin.headers).status_code == 404
    patch = admin_api.patch(
        f"/api/admin/mitras/{missing}", json={"name": "Siapa"}, headers=admin.headers
    )
    assert patch.status_code == 404


def test_search_finds_by_name_part_and_pages_with_a_cursor(admin_api, admin, viewer):
    tag = secrets.token_hex(4)
    ids = [_create(admin_api, admin, name=f"Bestie {tag} {n}")["id"] for n in range(3)]

    first = admin_api.get(
        "/api/admin/mitras", params={"q": tag.upper(), "limit": 2}, headers=viewer.headers
    ).json()
    second = admin_api.get(
        "/api/admin/mitras",
        params={"q": tag, "limit": 2, "cursor": first["next_cursor"]},
        headers=viewer.headers,
    ).json()

    assert [m["id"] for m in first["items"]] == ids[::-1][:2]
    assert [m["id"] for m in second["items"]] == ids[:1]
    assert second["next_cursor"] is None


def test_search_by_phone_and_by_status(admin_api, admin, viewer):
    mitra = _create(admin_api, admin)
    admin_api.patch(
        f"/api/admin/mitras/{mitra['id']}", json={"status": "suspended"}, headers=admin.headers
    )

    by_phone = admin_api.get(
        "/api/admin/mitras", params={"q": mitra["phone"][-8:]}, headers=viewer.headers
    ).json()
    active_only = admin_api.get(
        "/api/admin/mitras",
        params={"q": mitra["phone"], "status": "active"},
        headers=viewer.headers,
    ).json()

    assert [m["id"] for m in by_phone["items"]] == [mitra["id"]]
    assert active_only["items"] == []


def test_garbage_cursor_and_limit_are_invalid_requests(admin_api, viewer):
    for params, field in [({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"), ({"limit": 201}, "limit")]:
        response = admin_api.get("/api/admin/mitras", params=params, headers=viewer.headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"]["fields"][0]["field"] == field


def test_list_shows_live_presence_and_load(admin_api, api, viewer, make_mitra):
    mitra = make_mitra("Mitra Hadir")
    _go_online(api, mitra)
    valkey.client().hset(keys.LOAD, mitra.id, 1)
    resync(mitra.id)

    found = admin_api.get(
        "/api/admin/mitras", params={"q": mitra.id, "online": "true"}, headers=viewer.headers
    ).json()["items"]

    assert len(found) == 1
    assert found[0]["online"] is True and found[0]["presence"] == "online"
    assert found[0]["load"] == 1
    assert found[0]["last_heartbeat_at"] is not None
    valkey.client().hdel(keys.LOAD, mitra.id)
    resync(mitra.id)


def test_stale_heartbeat_shows_offline_before_the_sweeper_runs(admin_api, api, viewer, make_mitra):
    mitra = make_mitra("Mitra Senyap")
    _go_online(api, mitra)
    set_beat(mitra.id, 1_000)  # a beat from 1970

    [item] = admin_api.get(f"/api/admin/mitras?q={mitra.id}", headers=viewer.headers).json()[
        "items"
    ]

    assert item["online"] is False and item["presence"] == "offline"


def test_suspending_a_live_mitra_takes_effect_at_once(admin_api, api, admin, database, make_mitra):
    mitra = make_mitra("Mitra Diskors Live")
    _go_online(api, mitra)
    assert api.get("/api/mitra/auth/me", headers=mitra.headers).status_code == 200
    with database.connect() as connection:
        uid = connection.execute(
            sa.text("SELECT firebase_uid FROM mitras WHERE id = :id"), {"id": mitra.id}
        ).scalar_one()

    response = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"status": "suspended"}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "suspended" and response.json()["online"] is False
    me = api.get("/api/mitra/auth/me", headers=mitra.headers)
    assert me.status_code == 403 and me.json()["error"]["code"] == "suspended"
    beat = api.post("/api/mitra/presence/heartbeat", headers=mitra.headers)
    assert beat.status_code == 403
    assert valkey.client().zscore(keys.HEARTBEATS, mitra.id) is None
    assert valkey.client().get(keys.uid_cache(uid)) is None
    with database.connect() as connection:
        last_log = connection.execute(
            sa.text(
                "SELECT status, reason, operator_id FROM mitra_online_log WHERE mitra_id = :id"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"id": mitra.id},
        ).one()
    assert (last_log.status, last_log.reason, str(last_log.operator_id)) == (
        "offline",
        "suspended",
        admin.id,
    )
    entry = audit_rows(database, mitra.id)[-1]
    assert (entry.before["status"], entry.after["status"]) == ("active", "suspended")


def test_reactivated_mitra_can_use_the_app_again(admin_api, api, admin, make_mitra):
    mitra = make_mitra("Mitra Kembali")
    admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"status": "suspended"}, headers=admin.headers
    )

    response = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"status": "active"}, headers=admin.headers
    )

    assert response.status_code == 200
    assert api.get("/api/mitra/auth/me", headers=mitra.headers).status_code == 200


def test_max_customers_edit_reaches_pairing_capacity_and_null_clears_it(admin_api, admin, database):
    mitra = _create(admin_api, admin)

    set_to_four = admin_api.patch(
        f"/api/admin/mitras/{mitra['id']}", json={"max_customers": 4}, headers=admin.headers
    )
    assert set_to_four.json()["max_customers"] == 4
    assert valkey.client().hget(keys.CAPACITY, mitra["id"]) == "4"

    cleared = admin_api.patch(
        f"/api/admin/mitras/{mitra['id']}", json={"max_customers": None}, headers=admin.headers
    )

    assert cleared.status_code == 200
    assert cleared.json()["max_customers"] is None
    assert cleared.json()["max_customers_effective"] >= 1
    assert valkey.client().hget(keys.CAPACITY, mitra["id"]) is None
    assert _mitra_row(database, mitra["id"]).max_customers is None


def test_refused_patch_changes_nothing(admin_api, admin, database):
    first, second = _create(admin_api, admin), _create(admin_api, admin)
    before = _mitra_row(database, first["id"])
    audits_before = len(audit_rows(database, first["id"]))

    taken = admin_api.patch(
        f"/api/admin/mitras/{first['id']}",
        json={"name": "Nama Baru", "phone": second["phone"]},
        headers=admin.headers,
    )
    negative = admin_api.patch(
        f"/api/admin/mitras/{first['id']}",
        json={"name": "Nama Baru", "max_customers": -3},
        headers=admin.headers,
    )
    null_name = admin_api.patch(
        f"/api/admin/mitras/{first['id']}", json={"name": None}, headers=admin.headers
    )

    assert taken.status_code == 409 and taken.json()["error"]["code"] == "phone_taken"
    assert negative.status_code == 400
    assert negative.json()["error"]["details"]["fields"][0]["field"] == "max_customers"
    assert null_name.status_code == 400
    assert _mitra_row(database, first["id"]) == before
    assert len(audit_rows(database, first["id"])) == audits_before


def test_phone_change_unlinks_the_old_sign_in(admin_api, api, admin, accounts, make_mitra):
    mitra = make_mitra("Mitra Ganti Nomor")
    new_phone = random_phone()

    response = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"phone": new_phone}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["logged_in"] is False
    assert api.get("/api/mitra/auth/me", headers=mitra.headers).status_code == 403
    account = accounts.sign_in_with_phone(new_phone)
    relogin = api.post(
        "/api/mitra/auth/login", headers={"Authorization": f"Bearer {account.id_token}"}
    )
    assert relogin.status_code == 200 and relogin.json()["id"] == mitra.id


def test_force_offline_logs_admin_forced_and_is_audited(
    admin_api, api, admin, database, make_mitra
):
    mitra = make_mitra("Mitra Dipaksa")
    _go_online(api, mitra)

    response = admin_api.post(f"/api/admin/mitras/{mitra.id}/force-offline", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["online"] is False
    presence = api.get("/api/mitra/presence", headers=mitra.headers).json()
    assert presence["status"] == "offline"
    with database.connect() as connection:
        reason = connection.execute(
            sa.text(
                "SELECT reason FROM mitra_online_log WHERE mitra_id = :id ORDER BY id DESC LIMIT 1"
            ),
            {"id": mitra.id},
        ).scalar_one()
    assert reason == "admin_forced"
    assert audit_rows(database, mitra.id)[-1].action == "mitra.force_offline"
