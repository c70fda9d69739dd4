"""The audit log: filtered, paged, admin-only, append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import random_phone


def _write_three(admin_api, operator) -> list[str]:
    ids = []
    for n in range(3):
        created = admin_api.post(
            "/api/admin/mitras",
            json={"name": f"Bestie Audit {n}", "phone": random_phone()},
            headers=operator.headers,
        )
        assert created.status_code == 201
        ids.append(created.json()["id"])
    return ids


def test_filter_by_operator_returns_only_their_writes_newest_first(admin_api, make_operator, root):
    operator = make_operator("admin")
    ids = _write_three(admin_api, operator)

    response = admin_api.get(
        "/api/admin/audit-logs", params={"admin_id": operator.id}, headers=root.headers
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["target_id"] for item in items] == ids[::-1]
    assert {item["admin_id"] for item in items} == {operator.id}
    assert items[0]["after"]["name"] == "Bestie Audit 2"


def test_pages_follow_the_cursor_without_gaps_or_repeats(admin_api, make_operator, root):
    operator = make_operator("admin")
    ids = _write_three(admin_api, operator)

    seen, cursor = [], None
    while True:
        params = {"admin_id": operator.id, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = admin_api.get("/api/admin/audit-logs", params=params, headers=root.headers).json()
        seen += [item["target_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ids[::-1]


def test_time_window_filters(admin_api, make_operator, root):
    operator = make_operator("admin")
    _write_three(admin_api, operator)
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    later = admin_api.get(
        "/api/admin/audit-logs",
        params={"admin_id": operator.id, "from": future},
        headers=root.headers,
    ).json()
    window = admin_api.get(
        "/api/admin/audit-logs",
        params={"admin_id": operator.id, "from": past, "to": future},
        headers=root.headers,
    ).json()

    assert later["items"] == []
    assert len(window["items"]) == 3


def test_viewer_may_not_read_the_audit_log(admin_api, viewer):
    response = admin_api.get("/api/admin/audit-logs", headers=viewer.headers)

    assert response.status_code == 403


def test_bad_filters_are_named(admin_api, root):
    for params, field in [
        ({"from": "yesterday"}, "from"),
        ({"admin_id": "nope"}, "admin_id"),
        ({"limit": 0}, "limit"),
    ]:
        response = admin_api.get("/api/admin/audit-logs", params=params, headers=root.headers)
        assert response.status_code == 400, params
        assert response.json()["error"]["details"]["fields"][0]["field"] == field


def test_the_log_refuses_updates_and_deletes(database):
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with (
            pytest.raises(sa.exc.DBAPIError, match="append-only"),
            database.begin() as connection,
        ):
            connection.execute(sa.text(statement))
