"""The device registry over real HTTP: idempotent PUT, DELETE, at most 10 per account (race
included), tokens moving between accounts, mitra logout, and bad input refused with nothing
changed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.push.conftest import new_token

BODY = {"platform": "android", "app_version": "1.4.0", "locale": "id-ID"}


def _tokens_of(database, owner_id: str) -> list[str]:
    with database.connect() as connection:
        return list(
            connection.execute(
                sa.text("SELECT token FROM devices WHERE owner_id = :o ORDER BY last_seen_at"),
                {"o": owner_id},
            ).scalars()
        )


def test_put_is_idempotent_and_delete_is_owner_only(api, database, make_client):
    owner, other = make_client(), make_client()
    token = new_token()
    path = f"/api/client/devices/{token}"

    first = api.put(path, json=BODY, headers=owner.headers)
    again = api.put(path, json={**BODY, "app_version": "1.5.0"}, headers=owner.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"platform": "android", "app_version": "1.5.0", "locale": "id-ID"}
    assert _tokens_of(database, owner.id) == [token]

    stranger = api.delete(path, headers=other.headers)
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "not_found"
    assert _tokens_of(database, owner.id) == [token]

    assert api.delete(path, headers=owner.headers).status_code == 204
    assert api.delete(path, headers=owner.headers).status_code == 404
    assert _tokens_of(database, owner.id) == []


@pytest.mark.parametrize(
    ("token", "body", "field"),
    [
        ("", BODY, "token"),
        ("x" * 4096, BODY, "token"),
        ("has space in it 12345", BODY, "token"),
        (None, {**BODY, "platform": "blackberry"}, "platform"),
        (None, {**BODY, "locale": "<b>"}, "locale"),
        (None, {**BODY, "extra": 1}, "extra"),
        (None, {"platform": "ios"}, "app_version"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(
    api, database, make_mitra, token, body, field
):
    mitra = make_mitra()
    response = api.put(
        f"/api/mitra/devices/{new_token() if token is None else token}",
        json=body,
        headers=mitra.headers,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in {f["field"] for f in error["details"]["fields"]}
    assert _tokens_of(database, mitra.id) == []


def test_an_eleventh_device_drops_the_oldest(api, database, make_client):
    client = make_client()
    tokens = [new_token() for _ in range(11)]
    for token in tokens:
        assert (
            api.put(f"/api/client/devices/{token}", json=BODY, headers=client.headers).status_code
            == 201
        )
    assert _tokens_of(database, client.id) == tokens[1:]


def test_concurrent_registrations_never_keep_more_than_ten(api, database, make_client):
    client = make_client()
    tokens = [new_token() for _ in range(24)]

    def put(token: str) -> int:
        return api.put(
            f"/api/client/devices/{token}", json=BODY, headers=client.headers
        ).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(put, tokens))
    assert statuses == [201] * 24
    assert len(_tokens_of(database, client.id)) == 10


def test_a_token_registered_by_another_account_moves(api, database, make_client, make_mitra):
    first, second = make_client(), make_mitra()
    token = new_token()
    assert (
        api.put(f"/api/client/devices/{token}", json=BODY, headers=first.headers).status_code == 201
    )
    assert (
        api.put(f"/api/mitra/devices/{token}", json=BODY, headers=second.headers).status_code == 201
    )
    assert _tokens_of(database, first.id) == []
    assert _tokens_of(database, second.id) == [token]


def test_mitra_logout_forgets_the_mitras_devices(api, database, make_mitra):
    mitra = make_mitra()
    for _ in range(2):
        api.put(f"/api/mitra/devices/{new_token()}", json=BODY, headers=mitra.headers)
    assert len(_tokens_of(database, mitra.id)) == 2
    assert api.post("/api/mitra/auth/logout", headers=mitra.headers).status_code == 204
    assert _tokens_of(database, mitra.id) == []
