"""Per-caller rate limits under concurrent bursts over real HTTP: no more than the limit get
through, the rest are `429 rate_limited` with Retry-After and change nothing."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa
from limits import parse_many

from shared.config import get_config
from tests.conftest import bearer, random_phone


def _first_limit(rate: str) -> int:
    return min(item.amount for item in parse_many(rate))


def _burst(count: int, send) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(max_workers=min(count, 24)) as pool:
        return list(pool.map(lambda _: send(), range(count)))


def _limited(responses: list[httpx.Response]) -> list[httpx.Response]:
    limited = [r for r in responses if r.status_code == 429]
    for response in limited:
        assert response.json()["error"]["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) >= 1
    return limited


def _count(database, sql: str, **values) -> int:  # type: ignore[no-untyped-def]
    with database.connect() as connection:
        return int(connection.execute(sa.text(sql), values).scalar_one())


def test_pairing_request_burst(api, database, make_client):
    limit = _first_limit(get_config().pairing_request_rate)
    client = make_client("Klien Cepat")

    def press() -> httpx.Response:
        response = api.post("/api/client/pairing-requests", headers=client.headers)
        if response.status_code == 201 and response.json()["status"] == "searching":
            api.delete(
                f"/api/client/pairing-requests/{response.json()['id']}", headers=client.headers
            )
        return response

    responses = _burst(limit + 10, press)

    limited = _limited(responses)
    assert len(limited) >= 10
    made = [r for r in responses if r.status_code == 201]
    assert len(responses) - len(limited) <= limit
    rows = _count(
        database, "SELECT count(*) FROM pairing_requests WHERE client_id = :c", c=client.id
    )
    assert rows == len(made)  # a limited press created nothing


def test_payment_creation_burst(api, accounts, database):
    limit = _first_limit(get_config().payment_create_rate)
    account = accounts.sign_in_with_phone(random_phone())
    headers = bearer(account.id_token)
    client_id = api.post(
        "/api/client/auth/register", json={"display_name": "Pembeli Cepat"}, headers=headers
    ).json()["id"]
    package = api.get("/api/client/packages", headers=headers).json()["items"][0]

    def buy() -> httpx.Response:
        return api.post(
            "/api/client/payments",
            json={"package_id": package["id"]},
            headers=headers | {"Idempotency-Key": secrets.token_hex(8)},
        )

    responses = _burst(limit + 8, buy)

    limited = _limited(responses)
    assert len(limited) >= 8
    created = [r for r in responses if r.status_code == 201]
    assert len(created) <= limit
    payments = _count(database, "SELECT count(*) FROM payments WHERE client_id = :c", c=client_id)
    assert payments == len(created)


def test_operator_login_burst_per_email(admin_api):
    limit = _first_limit(get_config().operator_login_email_rate)
    email = f"tebak-{secrets.token_hex(5)}@halobestie.test"

    responses = _burst(
        limit + 10,
        lambda: admin_api.post("/api/admin/auth/login", json={"email": email, "password": "x1"}),
    )

    assert len(_limited(responses)) == 10  # the lockout answers the others (401/423)


def test_operator_login_burst_per_source(admin_api):
    limit = _first_limit(get_config().operator_login_source_rate)
    # Behind the load balancer the client's address is the second-to-last hop.
    source = {"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}, 10.0.0.9"}

    def guess() -> httpx.Response:
        email = f"sumber-{secrets.token_hex(5)}@halobestie.test"
        return admin_api.post(
            "/api/admin/auth/login", json={"email": email, "password": "x1"}, headers=source
        )

    responses = _burst(limit + 10, guess)

    assert len(_limited(responses)) == 10


def test_heartbeat_flood(api, make_mitra):
    limit = _first_limit(get_config().heartbeat_rate)
    mitra = make_mitra("Mitra Banjir")
    api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers)
    try:
        responses = _burst(
            limit + 10,
            lambda: api.post("/api/mitra/presence/heartbeat", headers=mitra.headers),
        )
        limited = _limited(responses)
        # One public process serves the test stack: its in-memory window is the limit.
        assert len([r for r in responses if r.status_code == 204]) <= limit
        assert len(limited) >= 10
    finally:
        api.put("/api/mitra/presence", json={"status": "offline"}, headers=mitra.headers)
