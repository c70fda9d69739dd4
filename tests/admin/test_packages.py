"""The package catalogue from the control center."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.admin.conftest import audit_rows


def _package_count(database) -> int:
    with database.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM packages")).scalar_one()


@pytest.fixture
def package(admin_api, admin):
    response = admin_api.post(
        "/api/admin/packages",
        json={"name": "3 sesi uji", "sessions": 3, "price": 99_000, "active": False},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_admin_creates_a_package_and_the_write_is_audited(package, admin, database):
    assert (package["price"], package["currency"], package["active"]) == (99_000, "IDR", False)
    [entry] = audit_rows(database, package["id"])
    assert (entry.action, str(entry.operator_id)) == ("package.create", admin.id)
    assert entry.after["price"] == 99_000


def test_list_includes_inactive_packages(admin_api, viewer, package):
    items = admin_api.get("/api/admin/packages?limit=200", headers=viewer.headers).json()["items"]

    assert package["id"] in {item["id"] for item in items}


def test_activating_a_package_shows_it_to_clients(
    admin_api, api, admin, database, package, make_client
):
    client = make_client("Klien Belanja")

    response = admin_api.patch(
        f"/api/admin/packages/{package['id']}",
        json={"active": True, "price": 95_000},
        headers=admin.headers,
    )

    assert response.status_code == 200
    assert (response.json()["active"], response.json()["price"]) == (True, 95_000)
    offered = api.get("/api/client/packages", headers=client.headers)
    assert offered.status_code == 200, offered.text
    assert package["id"] in {item["id"] for item in offered.json()["items"]}
    entry = audit_rows(database, package["id"])[-1]
    assert (entry.action, entry.before["active"], entry.after["active"]) == (
        "package.update",
        False,
        True,
    )
    admin_api.patch(
        f"/api/admin/packages/{package['id']}", json={"active": False}, headers=admin.headers
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"price": 1000.5}, "price"),
        ({"price": "1000"}, "price"),
        ({"price": -1}, "price"),
        ({"sessions": 0}, "sessions"),
        ({"name": ""}, "name"),
        ({"currency": "USD"}, "currency"),
    ],
    ids=["fractional-price", "string-price", "negative-price", "no-sessions", "empty-name", "usd"],
)
def test_bad_package_fields_are_named_and_change_nothing(
    admin_api, admin, database, package, body, field
):
    before = _package_count(database)

    created = admin_api.post(
        "/api/admin/packages",
        json={"name": "Paket", "sessions": 1, "price": 1000, **body},
        headers=admin.headers,
    )
    patched = admin_api.patch(
        f"/api/admin/packages/{package['id']}", json=body, headers=admin.headers
    )

    for response in (created, patched):
        assert response.status_code == 400, response.text
        assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == [field]
    assert _package_count(database) == before
    assert len(audit_rows(database, package["id"])) == 1


def test_viewer_cannot_create_packages(admin_api, viewer, database):
    before = _package_count(database)

    response = admin_api.post(
        "/api/admin/packages",
        json={"name": "Paket", "sessions": 1, "price": 1000},
        headers=viewer.headers,
    )

    assert response.status_code == 403
    assert _package_count(database) == before
