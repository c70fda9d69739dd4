"""Operator accounts (superadmin only) and the last-superadmin rule."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests.admin.conftest import audit_rows, login, random_email


def _count_operators(database) -> int:
    with database.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM operators")).scalar_one()


def test_superadmin_creates_an_operator_and_the_write_is_audited(admin_api, root, database):
    email = random_email("new")

    response = admin_api.post(
        "/api/admin/admins",
        json={"email": email, "password": "correct-horse-battery", "role": "viewer"},
        headers=root.headers,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["role"] == "viewer" and created["status"] == "active"
    assert "password_hash" not in created
    [entry] = audit_rows(database, created["id"])
    assert str(entry.operator_id) == root.id
    assert entry.action == "operator.create"
    assert entry.before is None
    assert entry.after["email"] == email
    assert "password_hash" not in entry.after and "password" not in entry.after


def test_duplicate_email_in_any_case_is_email_taken_and_creates_nothing(
    admin_api, root, database, make_operator
):
    existing = make_operator("viewer")
    before = _count_operators(database)

    response = admin_api.post(
        "/api/admin/admins",
        json={"email": existing.email.upper(), "password": "another-long-pass", "role": "admin"},
        headers=root.headers,
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    assert _count_operators(database) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "x@halobestie.test", "password": "short", "role": "admin"}, "password"),
        ({"email": "not-an-email", "password": "long-enough-pass", "role": "admin"}, "email"),
        ({"email": "y@halobestie.test", "password": "long-enough-pass", "role": "root"}, "role"),
    ],
    ids=["short-password", "bad-email", "unknown-role"],
)
def test_bad_operator_fields_are_named_and_change_nothing(admin_api, root, database, body, field):
    before = _count_operators(database)

    response = admin_api.post("/api/admin/admins", json=body, headers=root.headers)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["details"]["fields"]] == [field]
    assert _count_operators(database) == before


def test_admin_role_cannot_manage_operators(admin_api, admin, database):
    before = _count_operators(database)

    listed = admin_api.get("/api/admin/admins", headers=admin.headers)
    created = admin_api.post(
        "/api/admin/admins",
        json={"email": random_email(), "password": "long-enough-pass", "role": "superadmin"},
        headers=admin.headers,
    )

    assert listed.status_code == created.status_code == 403
    assert created.json()["error"]["code"] == "forbidden"
    assert _count_operators(database) == before


def test_operator_list_pages_with_a_cursor(admin_api, root, make_operator):
    for _ in range(3):
        make_operator("viewer")

    first = admin_api.get("/api/admin/admins?limit=2", headers=root.headers).json()
    second = admin_api.get(
        f"/api/admin/admins?limit=2&cursor={first['next_cursor']}", headers=root.headers
    ).json()

    assert len(first["items"]) == 2 and first["next_cursor"]
    first_ids = {item["id"] for item in first["items"]}
    assert first_ids.isdisjoint(item["id"] for item in second["items"])
    assert first["items"][0]["created_at"] >= second["items"][0]["created_at"]


def test_role_change_is_audited_with_before_and_after(admin_api, root, database, make_operator):
    operator = make_operator("viewer")

    response = admin_api.patch(
        f"/api/admin/admins/{operator.id}", json={"role": "admin"}, headers=root.headers
    )

    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    entry = audit_rows(database, operator.id)[-1]
    assert (entry.action, entry.before["role"], entry.after["role"]) == (
        "operator.update",
        "viewer",
        "admin",
    )


def test_empty_patch_is_refused(admin_api, root, make_operator):
    operator = make_operator("viewer")

    response = admin_api.patch(f"/api/admin/admins/{operator.id}", json={}, headers=root.headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@contextmanager
def only_superadmins(database, *keep: str):
    """Demote every other active superadmin for the test's duration (restored after)."""
    with database.begin() as connection:
        others = list(
            connection.execute(
                sa.text(
                    "UPDATE operators SET role = 'admin' WHERE role = 'superadmin'"
                    " AND status = 'active' AND NOT (id = ANY(CAST(:keep AS uuid[])))"
                    " RETURNING id"
                ),
                {"keep": list(keep)},
            ).scalars()
        )
    try:
        yield
    finally:
        with database.begin() as connection:
            connection.execute(
                sa.text("UPDATE operators SET role = 'superadmin' WHERE id = ANY(:ids)"),
                {"ids": others},
            )


def test_last_active_superadmin_can_be_neither_demoted_nor_suspended(
    admin_api, database, make_operator
):
    solo = make_operator("superadmin")
    with only_superadmins(database, solo.id):
        demote = admin_api.patch(
            f"/api/admin/admins/{solo.id}", json={"role": "admin"}, headers=solo.headers
        )
        suspend = admin_api.patch(
            f"/api/admin/admins/{solo.id}", json={"status": "suspended"}, headers=solo.headers
        )
        me = admin_api.get("/api/admin/auth/me", headers=solo.headers)

    assert demote.status_code == suspend.status_code == 409
    assert demote.json()["error"]["code"] == "last_superadmin"
    assert me.json()["role"] == "superadmin" and me.json()["status"] == "active"
    assert [row.action for row in audit_rows(database, solo.id)] == ["operator.create"]


def test_two_superadmins_demoting_each_other_at_once_leave_one(admin_api, database, make_operator):
    first, second = make_operator("superadmin"), make_operator("superadmin")
    with only_superadmins(database, first.id, second.id):
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(
                pool.map(
                    lambda pair: admin_api.patch(
                        f"/api/admin/admins/{pair[1].id}",
                        json={"role": "viewer"},
                        headers=pair[0].headers,
                    ),
                    [(first, second), (second, first)],
                )
            )
        with database.connect() as connection:
            remaining = connection.execute(
                sa.text(
                    "SELECT count(*) FROM operators WHERE role = 'superadmin' AND status = 'active'"
                )
            ).scalar_one()

    statuses = sorted(r.status_code for r in results)
    # The loser is refused either by the rule (409) or because it was itself just demoted (403).
    assert statuses[0] == 200 and statuses[1] in (403, 409)
    assert remaining == 1


def test_superadmin_can_demote_another_while_one_remains(admin_api, root, make_operator):
    other = make_operator("superadmin")

    response = admin_api.patch(
        f"/api/admin/admins/{other.id}", json={"role": "viewer"}, headers=root.headers
    )

    assert response.status_code == 200
    assert login(admin_api, other.email, other.password).json()["admin"]["role"] == "viewer"
