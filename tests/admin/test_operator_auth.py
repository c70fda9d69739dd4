"""Operator login, lockout, and token revocation, over HTTP against the real stack."""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import sqlalchemy as sa

from shared.domain.operators import email_digest
from tests.admin.conftest import SEEDED_EMAIL, login, random_email
from tests.conftest import bearer


def _insert_failures(database, email: str, minutes_ago: float, count: int) -> None:
    with database.begin() as connection:
        for _ in range(count):
            connection.execute(
                sa.text(
                    "INSERT INTO operator_login_failures (email_digest, failed_at)"
                    " VALUES (:d, now() - make_interval(secs => :s))"
                ),
                {"d": email_digest(email), "s": minutes_ago * 60},
            )


def test_login_returns_a_token_that_identifies_the_operator(admin_api, make_operator):
    operator = make_operator("viewer")

    response = login(admin_api, operator.email.upper(), operator.password)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["admin"]["role"] == "viewer"
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=7) < expires_at - datetime.now(UTC) <= timedelta(hours=8, minutes=1)
    me = admin_api.get("/api/admin/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == operator.id


def test_wrong_password_and_unknown_email_get_the_same_refusal(admin_api, make_operator):
    operator = make_operator("viewer")

    wrong = login(admin_api, operator.email, "not-the-password")
    unknown = login(admin_api, random_email("nobody"), "not-the-password")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_unknown_email_costs_as_much_time_as_a_wrong_password(admin_api, make_operator):
    operator = make_operator("viewer")
    known, unknown = [], []
    for _ in range(4):
        started = time.perf_counter()
        assert login(admin_api, operator.email, "wrong-password").status_code == 401
        known.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert login(admin_api, random_email("ghost"), "wrong-password").status_code == 401
        unknown.append(time.perf_counter() - started)

    # Both paths run one argon2id verification (tens of ms); a skipped hash would be ~1 ms.
    assert statistics.median(unknown) > 0.6 * statistics.median(known)
    assert statistics.median(unknown) > 0.02


def test_five_failures_lock_the_email_even_for_the_right_password(admin_api, make_operator):
    operator = make_operator("viewer")
    for _ in range(5):
        assert login(admin_api, operator.email, "wrong-password").status_code == 401

    response = login(admin_api, operator.email, operator.password)

    assert response.status_code == 423, response.text
    assert response.json()["error"]["code"] == "locked"
    assert 890 <= int(response.headers["Retry-After"]) <= 900


def test_unknown_emails_lock_exactly_like_known_ones(admin_api):
    email = random_email("ghost")
    statuses = [login(admin_api, email, "wrong-password").status_code for _ in range(6)]

    assert statuses == [401] * 5 + [423]


def test_failures_older_than_fifteen_minutes_do_not_count(admin_api, database, make_operator):
    operator = make_operator("viewer")
    _insert_failures(database, operator.email, minutes_ago=16, count=10)

    response = login(admin_api, operator.email, operator.password)

    assert response.status_code == 200, response.text


def test_lock_lifts_fifteen_minutes_after_the_fifth_failure(admin_api, database, make_operator):
    operator = make_operator("viewer")
    _insert_failures(database, operator.email, minutes_ago=14, count=5)

    locked = login(admin_api, operator.email, operator.password)

    assert locked.status_code == 423
    assert 50 <= int(locked.headers["Retry-After"]) <= 61


def test_a_parallel_burst_of_guesses_gets_exactly_five_tries(admin_api, make_operator):
    operator = make_operator("viewer")

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(lambda _: login(admin_api, operator.email, "wrong").status_code, range(12))
        )

    assert sorted(statuses) == [401] * 5 + [423] * 7


def test_successful_login_clears_earlier_failures(admin_api, make_operator):
    operator = make_operator("viewer")
    for _ in range(4):
        login(admin_api, operator.email, "wrong-password")
    assert login(admin_api, operator.email, operator.password).status_code == 200

    for _ in range(4):
        login(admin_api, operator.email, "wrong-password")
    response = login(admin_api, operator.email, operator.password)

    assert response.status_code == 200


def _forged(secret: str, **claims) -> str:
    now = int(time.time())
    base = {"iss": "halo-bestie-control-center", "pwd": 0, "iat": now, "exp": now + 60}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def test_expired_token_is_unauthenticated(admin_api, root, database):
    with database.connect() as connection:
        stamp = connection.execute(
            sa.text("SELECT password_changed_at FROM operators WHERE id = :id"), {"id": root.id}
        ).scalar_one()
    secret = os.environ["OPERATOR_TOKEN_SECRET"]
    pwd = int(stamp.timestamp() * 1_000_000)
    valid = _forged(secret, sub=root.id, role="superadmin", pwd=pwd)
    expired = _forged(secret, sub=root.id, role="superadmin", pwd=pwd, exp=int(time.time()) - 5)

    assert admin_api.get("/api/admin/auth/me", headers=bearer(valid)).status_code == 200
    response = admin_api.get("/api/admin/auth/me", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_token_signed_with_another_secret_is_unauthenticated(admin_api, root):
    forged = _forged("x" * 40, sub=root.id, role="superadmin")

    response = admin_api.get("/api/admin/auth/me", headers=bearer(forged))

    assert response.status_code == 401


def test_suspended_operator_token_stops_working_at_once(admin_api, root, make_operator):
    operator = make_operator("admin")

    suspended = admin_api.patch(
        f"/api/admin/admins/{operator.id}", json={"status": "suspended"}, headers=root.headers
    )

    assert suspended.status_code == 200, suspended.text
    assert admin_api.get("/api/admin/auth/me", headers=operator.headers).status_code == 401
    relogin = login(admin_api, operator.email, operator.password)
    assert relogin.status_code == 403
    assert relogin.json()["error"]["code"] == "suspended"


def test_password_change_revokes_earlier_tokens(admin_api, root, make_operator):
    operator = make_operator("admin")
    new_password = "a-brand-new-password"

    changed = admin_api.patch(
        f"/api/admin/admins/{operator.id}", json={"password": new_password}, headers=root.headers
    )

    assert changed.status_code == 200, changed.text
    assert admin_api.get("/api/admin/auth/me", headers=operator.headers).status_code == 401
    assert login(admin_api, operator.email, operator.password).status_code == 401
    fresh = login(admin_api, operator.email, new_password)
    assert fresh.status_code == 200
    me = admin_api.get("/api/admin/auth/me", headers=bearer(fresh.json()["token"]))
    assert me.status_code == 200


def test_demoted_operator_loses_rights_with_the_same_token(admin_api, root, make_operator):
    operator = make_operator("admin")
    assert admin_api.get("/api/admin/audit-logs", headers=operator.headers).status_code == 200

    admin_api.patch(
        f"/api/admin/admins/{operator.id}", json={"role": "viewer"}, headers=root.headers
    )

    response = admin_api.get("/api/admin/audit-logs", headers=operator.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_seeded_superadmin_can_log_in(admin_api):
    response = login(admin_api, SEEDED_EMAIL, "test-admin-password")

    assert response.status_code == 200
    assert response.json()["admin"]["role"] == "superadmin"


def test_admin_routes_do_not_exist_on_the_public_listener(api):
    for method, path in [
        ("POST", "/api/admin/auth/login"),
        ("GET", "/api/admin/mitras"),
        ("GET", "/api/admin/settings"),
    ]:
        response = api.request(method, path, json={})
        assert response.status_code == 404, (method, path)
