"""Every error code the contract copy lists, provoked at least once over real HTTP: the
status is the contract's, the body has the contract's error shape, and 429/503 say
`Retry-After`. `test_every_listed_code_is_provoked` keeps the list and the copy in step."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import bearer, random_phone
from tests.contract.conftest import load_contract
from tests.pairing.conftest import make_overdue
from tests.support.sessions import start_session

PROVOKED: dict[str, Callable[..., None]] = {}


def provokes(code: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(test: Callable[..., Any]) -> Callable[..., Any]:
        PROVOKED[code] = test
        return test

    return register


def refused(response: httpx.Response, code: str) -> None:
    contract = load_contract()
    status = {**contract["generic_errors"], **contract["codes"]}[code]
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if status in (429, 503):
        assert int(response.headers["Retry-After"]) >= 0


def test_every_listed_code_is_provoked():
    contract = load_contract()
    assert sorted(PROVOKED) == sorted({*contract["generic_errors"], *contract["codes"]})


# -- generic ---------------------------------------------------------------------------------


@provokes("invalid_request")
def test_invalid_request(api, make_client):
    client = make_client()
    refused(
        api.patch("/api/client/auth/me", json={"display_name": "x"}, headers=client.headers),
        "invalid_request",
    )


@provokes("unauthenticated")
def test_unauthenticated(api):
    refused(api.get("/api/client/auth/me", headers=bearer("not-a-token")), "unauthenticated")


@provokes("forbidden")
def test_forbidden(api, make_mitra):
    mitra = make_mitra()
    refused(api.get("/api/client/auth/me", headers=mitra.headers), "forbidden")


@provokes("suspended")
def test_suspended(api, admin_api, admin, make_mitra):
    mitra = make_mitra()
    patched = admin_api.patch(
        f"/api/admin/mitras/{mitra.id}", json={"status": "suspended"}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    refused(api.get("/api/mitra/auth/me", headers=mitra.headers), "suspended")


@provokes("not_found")
def test_not_found(api, make_client):
    client = make_client()
    refused(api.get(f"/api/client/sessions/{uuid.uuid4()}", headers=client.headers), "not_found")


@provokes("method_not_allowed")
def test_method_not_allowed(api):
    refused(api.delete("/api/shared/config"), "method_not_allowed")


@provokes("conflict")
def test_conflict_on_a_stale_settings_version(admin_api, admin):
    current = admin_api.get("/api/admin/settings", headers=admin.headers).json()
    body = {k: v for k, v in current.items() if k not in ("updated_at", "updated_by")}
    first = admin_api.put("/api/admin/settings", json=body, headers=admin.headers)
    assert first.status_code == 200, first.text
    refused(admin_api.put("/api/admin/settings", json=body, headers=admin.headers), "conflict")


@provokes("payload_too_large")
def test_payload_too_large(api, make_client):
    client = make_client()
    body = '{"display_name": "' + "a" * (65 * 1024) + '"}'
    headers = client.headers | {"Content-Type": "application/json"}
    refused(api.patch("/api/client/auth/me", content=body, headers=headers), "payload_too_large")


@provokes("unsupported_media_type")
def test_unsupported_media_type(api, make_client):
    client = make_client()
    headers = client.headers | {"Content-Type": "text/plain"}
    refused(
        api.patch("/api/client/auth/me", content="display_name=Budi", headers=headers),
        "unsupported_media_type",
    )


@provokes("rate_limited")
def test_rate_limited(api, make_client):
    client = make_client()
    for _ in range(30):
        api.post("/api/client/stream-tickets", headers=client.headers)
    refused(api.post("/api/client/stream-tickets", headers=client.headers), "rate_limited")


@provokes("unavailable")
def test_unavailable(api, database, make_client):
    """PostgreSQL answers this one client's rename with `53100 disk_full` (a trigger scoped
    to it): a store out of resources is 503 unavailable with Retry-After, never a 500.
    (tests/faults stops PostgreSQL outright for the same answer.)"""
    client = make_client()
    trigger = f"fail_{client.id.replace('-', '_')}"
    with database.begin() as connection:
        connection.execute(
            sa.text(f"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id = '{client.id}' THEN
                    RAISE EXCEPTION 'disk full' USING ERRCODE = '53100';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {trigger} BEFORE UPDATE ON clients
                FOR EACH ROW EXECUTE FUNCTION {trigger}();
        """)
        )
    try:
        response = api.patch(
            "/api/client/auth/me", json={"display_name": "Budi"}, headers=client.headers
        )
    finally:
        with database.begin() as connection:
            connection.execute(sa.text(f"DROP TRIGGER {trigger} ON clients"))
            connection.execute(sa.text(f"DROP FUNCTION {trigger}()"))
    refused(response, "unavailable")


# -- named on routes --------------------------------------------------------------------------


@provokes("profile_required")
def test_profile_required(api, accounts):
    account = accounts.sign_in_anonymously()
    refused(api.get("/api/client/auth/me", headers=bearer(account.id_token)), "profile_required")


@provokes("registration_required")
def test_registration_required(api, make_client):
    client = make_client()  # anonymous
    refused(
        api.post(
            "/api/client/payments", json={"package_id": str(uuid.uuid4())}, headers=client.headers
        ),
        "registration_required",
    )


@provokes("not_a_mitra")
def test_not_a_mitra(api, accounts):
    account = accounts.sign_in_with_phone(random_phone())
    refused(api.post("/api/mitra/auth/login", headers=bearer(account.id_token)), "not_a_mitra")


@provokes("not_online")
def test_not_online(api, make_mitra):
    mitra = make_mitra()
    refused(api.post("/api/mitra/presence/heartbeat", headers=mitra.headers), "not_online")


@provokes("already_searching")
def test_already_searching(online_mitras, client_with_credits, pairing_request):
    online_mitras(1)
    client = client_with_credits(2)
    assert pairing_request(client).status_code == 201
    refused(pairing_request(client), "already_searching")


@provokes("already_in_session")
def test_already_in_session(api, online_mitras, client_with_credits, pairing_request):
    (mitra,) = online_mitras(1)
    client = client_with_credits(2)
    request_id = pairing_request(client).json()["id"]
    accepted = api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)
    assert accepted.status_code == 200, accepted.text
    refused(pairing_request(client), "already_in_session")


@provokes("payment_required")
def test_payment_required(api, database, client_with_credits, pairing_request):
    client = client_with_credits()
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                " VALUES (:c, 'trial', 'consumption', -1, :ref)"
            ),
            {"c": client.id, "ref": f"test-spent:{client.id}"},
        )
        connection.execute(
            sa.text("UPDATE clients SET registered = true WHERE id = :c"), {"c": client.id}
        )
    refused(pairing_request(client), "payment_required")


@provokes("already_matched")
def test_already_matched(api, online_mitras, client_with_credits, pairing_request):
    (mitra,) = online_mitras(1)
    client = client_with_credits(1)
    request_id = pairing_request(client).json()["id"]
    api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers)
    refused(
        api.delete(f"/api/client/pairing-requests/{request_id}", headers=client.headers),
        "already_matched",
    )


@provokes("already_taken")
def test_already_taken(api, online_mitras, client_with_credits, pairing_request):
    first, second = online_mitras(2)
    request_id = pairing_request(client_with_credits(1)).json()["id"]
    api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=first.headers)
    refused(
        api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=second.headers),
        "already_taken",
    )


@provokes("expired")
def test_expired(api, database, online_mitras, client_with_credits, pairing_request):
    (mitra,) = online_mitras(1)
    request_id = pairing_request(client_with_credits(1)).json()["id"]
    make_overdue(database, request_id)
    refused(
        api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers),
        "expired",
    )


@provokes("at_capacity")
def test_at_capacity(admin_api, admin, api, online_mitras, client_with_credits, pairing_request):
    """A named reroute target already at its limit."""
    first, full = online_mitras(2, capacity=1)
    sessions = []
    for mitra in (first, full):
        request_id = pairing_request(client_with_credits(1)).json()["id"]
        accepted = api.post(
            f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers
        )
        if accepted.status_code != 200:  # the blast reached the other first: take the next
            pytest.skip(accepted.text)
        sessions.append(accepted.json()["session_id"])
    refused(
        admin_api.post(
            f"/api/admin/sessions/{sessions[0]}/reroute",
            json={"mitra_id": full.id},
            headers=admin.headers,
        ),
        "at_capacity",
    )


@provokes("not_offered")
def test_not_offered(api, online_mitras, client_with_credits, pairing_request):
    (mitra,) = online_mitras(1)
    request_id = pairing_request(client_with_credits(1)).json()["id"]
    api.post(f"/api/mitra/pairing-requests/{request_id}/decline", headers=mitra.headers)
    refused(
        api.post(f"/api/mitra/pairing-requests/{request_id}/accept", headers=mitra.headers),
        "not_offered",
    )


@provokes("payment_provider_error")
def test_payment_provider_error(api, accounts, stack, database):
    account = accounts.sign_in_with_google(f"buyer-{secrets.token_hex(4)}@halobestie.test")
    created = api.post(
        "/api/client/auth/register",
        json={"display_name": "Pembeli"},
        headers=bearer(account.id_token),
    )
    assert created.status_code == 201, created.text
    with database.connect() as connection:
        package_id = connection.execute(
            sa.text("SELECT id FROM packages WHERE active LIMIT 1")
        ).scalar_one()
    stack.xendit.fail_next(503)
    refused(
        api.post(
            "/api/client/payments",
            json={"package_id": str(package_id)},
            headers=bearer(account.id_token),
        ),
        "payment_provider_error",
    )


@provokes("invalid_credentials")
def test_invalid_credentials(admin_api):
    refused(
        admin_api.post(
            "/api/admin/auth/login",
            json={"email": f"ghost-{secrets.token_hex(4)}@halobestie.test", "password": "x" * 12},
        ),
        "invalid_credentials",
    )


@provokes("locked")
def test_locked(admin_api):
    email = f"ghost-{secrets.token_hex(4)}@halobestie.test"
    for _ in range(5):
        admin_api.post("/api/admin/auth/login", json={"email": email, "password": "x" * 12})
    response = admin_api.post("/api/admin/auth/login", json={"email": email, "password": "x" * 12})
    refused(response, "locked")


@provokes("email_taken")
def test_email_taken(admin_api, root):
    body = {
        "email": f"op-{secrets.token_hex(4)}@halobestie.test",
        "password": "p" * 16,
        "role": "viewer",
    }
    assert admin_api.post("/api/admin/admins", json=body, headers=root.headers).status_code == 201
    refused(admin_api.post("/api/admin/admins", json=body, headers=root.headers), "email_taken")


@provokes("phone_taken")
def test_phone_taken(admin_api, admin, make_mitra):
    mitra = make_mitra()
    refused(
        admin_api.post(
            "/api/admin/mitras",
            json={"name": "Kembar", "phone": mitra.phone},
            headers=admin.headers,
        ),
        "phone_taken",
    )


@provokes("session_ended")
def test_session_ended(api, make_client, make_mitra):
    client, mitra = make_client(), make_mitra()
    session_id = start_session(client.id, mitra.id)
    ended = api.post(f"/api/client/sessions/{session_id}/end", json={}, headers=client.headers)
    assert ended.status_code == 200
    refused(
        api.post(
            f"/api/mitra/sessions/{session_id}/messages",
            json={"client_message_id": "late-1", "text": "halo"},
            headers=mitra.headers,
        ),
        "session_ended",
    )
