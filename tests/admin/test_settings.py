"""Operator settings: validated, versioned, audited, and read by the other functions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.domain import settings


@pytest.fixture
def restore_settings():
    saved = settings.current()
    yield
    settings.save(saved, None)


def _version(database) -> int:
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT max(version) FROM settings_versions")
        ).scalar_one()


def test_viewer_reads_the_settings_with_their_version(admin_api, viewer):
    response = admin_api.get("/api/admin/settings", headers=viewer.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["version"] >= 1
    assert body["heartbeat_timeout_s"] >= 2 * body["heartbeat_interval_s"]
    assert set(body["anonymity"]) == {
        "show_client_display_name",
        "show_mitra_name",
        "show_mitra_photo",
    }


def test_saved_settings_reach_the_public_config_without_a_redeploy(
    admin_api, api, admin, database, restore_settings
):
    before = admin_api.get("/api/admin/settings", headers=admin.headers).json()

    response = admin_api.put(
        "/api/admin/settings",
        json={"search_window_s": 90, "trial_sessions": 2, "anonymity": {"show_mitra_photo": False}},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["version"] == before["version"] + 1 == _version(database)
    assert saved["heartbeat_interval_s"] == before["heartbeat_interval_s"]
    assert saved["anonymity"]["show_mitra_name"] == before["anonymity"]["show_mitra_name"]
    public = api.get("/api/shared/config").json()
    assert (public["search_window_s"], public["trial_sessions"]) == (90, 2)
    assert public["anonymity"]["show_mitra_photo"] is False
    with database.connect() as connection:
        entry = connection.execute(
            sa.text(
                "SELECT operator_id, before, after FROM audit_log"
                " WHERE action = 'settings.update' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert str(entry.operator_id) == admin.id
    assert (entry.before["search_window_s"], entry.after["search_window_s"]) == (
        before["search_window_s"],
        90,
    )
    assert entry.after["version"] == saved["version"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"heartbeat_interval_s": 40, "heartbeat_timeout_s": 60}, "heartbeat_timeout_s"),
        ({"heartbeat_interval_s": 2}, "heartbeat_interval_s"),
        ({"search_window_s": 5000}, "search_window_s"),
        ({"trial_sessions": -1}, "trial_sessions"),
        ({"trial_sessions": None}, "trial_sessions"),
        ({"max_customers_per_mitra": 0}, "max_customers_per_mitra"),
        ({"orphan_action": "panic"}, "orphan_action"),
        ({"anonymity": {"show_phone": True}}, "anonymity.show_phone"),
        ({"surprise": 1}, "surprise"),
    ],
    ids=[
        "timeout-under-two-intervals",
        "interval-too-short",
        "window-too-long",
        "negative-trial",
        "null-trial",
        "zero-capacity",
        "unknown-orphan-action",
        "unknown-anonymity-flag",
        "unknown-field",
    ],
)
def test_out_of_range_settings_are_named_and_save_nothing(admin_api, admin, database, body, field):
    version = _version(database)

    response = admin_api.put("/api/admin/settings", json=body, headers=admin.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [f["field"] for f in error["details"]["fields"]]
    assert _version(database) == version


def test_timeout_is_checked_against_the_stored_interval(admin_api, admin, database):
    current = admin_api.get("/api/admin/settings", headers=admin.headers).json()
    version = _version(database)

    response = admin_api.put(
        "/api/admin/settings",
        json={"heartbeat_timeout_s": 2 * current["heartbeat_interval_s"] - 1},
        headers=admin.headers,
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == "heartbeat_timeout_s"
    assert _version(database) == version


def test_viewer_cannot_change_settings(admin_api, viewer, database):
    version = _version(database)

    response = admin_api.put(
        "/api/admin/settings", json={"trial_sessions": 3}, headers=viewer.headers
    )

    assert response.status_code == 403
    assert _version(database) == version


def test_empty_settings_body_saves_no_version(admin_api, admin, database):
    version = _version(database)

    response = admin_api.put("/api/admin/settings", json={}, headers=admin.headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert _version(database) == version


# -- optimistic concurrency: PUT what GET returned --------------------------------------------


def test_put_of_what_get_returned_saves_and_a_stale_version_is_409(
    admin_api, admin, database, restore_settings
):
    read = admin_api.get("/api/admin/settings", headers=admin.headers).json()
    read["search_window_s"] = read["search_window_s"] + 1

    saved = admin_api.put("/api/admin/settings", json=read, headers=admin.headers)
    stale = admin_api.put("/api/admin/settings", json=read, headers=admin.headers)
    unversioned = {k: v for k, v in read.items() if k != "version"}
    last_writer = admin_api.put("/api/admin/settings", json=unversioned, headers=admin.headers)

    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == read["version"] + 1
    assert (stale.status_code, stale.json()["error"]["code"]) == (409, "conflict")
    assert stale.json()["error"]["details"]["current_version"] == read["version"] + 1
    assert last_writer.status_code == 200  # no version: today's behaviour
    assert _version(database) == read["version"] + 2


@pytest.mark.race
def test_operators_saving_the_same_version_at_once_never_overwrite_each_other(
    admin_api, admin, make_operator, database, restore_settings
):
    from concurrent.futures import ThreadPoolExecutor

    operators = [admin] + [make_operator("admin") for _ in range(5)]
    read = admin_api.get("/api/admin/settings", headers=admin.headers).json()

    def save(index: int) -> int:
        body = {"version": read["version"], "search_window_s": 30 + index}
        return admin_api.put(
            "/api/admin/settings", json=body, headers=operators[index].headers
        ).status_code

    with ThreadPoolExecutor(max_workers=len(operators)) as pool:
        statuses = sorted(pool.map(save, range(len(operators))))

    assert statuses == [200] + [409] * (len(operators) - 1)
    assert _version(database) == read["version"] + 1
