"""Operators set a mitra's photo URL: https only, ≤ 500 characters, no credentials; clients
see it only as anonymity allows (tests/contract/test_events.py covers every payload)."""

from __future__ import annotations

import pytest

from tests.conftest import random_phone

GOOD = "https://cdn.halobestie.test/mitra/dewi.jpg?w=256"


def test_photo_set_on_create(admin_api, admin):
    created = admin_api.post(
        "/api/admin/mitras",
        json={"name": "Dewi Foto", "phone": random_phone(), "photo_url": GOOD},
        headers=admin.headers,
    )

    assert created.status_code == 201, created.text
    assert created.json()["photo_url"] == GOOD


def test_photo_changed_and_removed_by_patch(admin_api, admin, api, make_mitra):
    mitra = make_mitra()

    patched = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"photo_url": GOOD}, headers=admin.headers
    )
    seen_by_self = api.get("/api/mitra/auth/me", headers=mitra.headers).json()
    removed = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"photo_url": None}, headers=admin.headers
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["photo_url"] == GOOD
    assert seen_by_self["photo_url"] == GOOD
    assert (removed.status_code, removed.json()["photo_url"]) == (200, None)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.halobestie.test/a.jpg",
        "https://user:secret@cdn.halobestie.test/a.jpg",
        "https://cdn.halobestie.test/a.jpg?token=abc",
        "https://cdn.halobestie.test/a.jpg?X-Amz-Signature=abc",
        "https:///a.jpg",
        "javascript:alert(1)",
        "https://cdn.halobestie.test/a b.jpg",
        "https://cdn.halobestie.test/" + "a" * 480 + ".jpg",
    ],
)
def test_bad_photo_urls_are_400_naming_the_field_and_change_nothing(
    admin_api, admin, make_mitra, url
):
    mitra = make_mitra()

    response = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"photo_url": url}, headers=admin.headers
    )

    assert response.status_code == 400, response.text
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == ["photo_url"]
    after = admin_api.get(f"/api/admin/mitras/{mitra.id}", headers=admin.headers).json()
    assert after["photo_url"] is None
