"""Regression for issue 13's first class, as the adversarial run found it: one request
whose values pg8000 or PostgreSQL cannot take left its pooled connection with unread
replies, and the correct operator password then failed to log in 10 times out of 10.

Each poisoning request now is a 400 naming the field; the login right after each, and 10
more after all of them, on the same admin process, all succeed."""

from __future__ import annotations

import pytest

from tests.admin.conftest import SEEDED_EMAIL, SEEDED_PASSWORD, login
from tests.hostile.support import cursor_of

POISON = [
    pytest.param(
        ("POST", "/api/admin/auth/login", '{"email": "a\\ud800@x.id", "password": "p"}', None),
        "email",
        id="surrogate-in-login-body",
    ),
    pytest.param(
        ("GET", "/api/admin/audit-logs", None, "from=0001-01-01T00:00:00%2B05:00"),
        "from",
        id="year-0-time-filter",
    ),
    pytest.param(
        (
            "GET",
            "/api/admin/audit-logs",
            None,
            "cursor=" + cursor_of(["0001-01-01T00:00:00+05:00", "1"]),
        ),
        "cursor",
        id="year-0-cursor",
    ),
    pytest.param(
        (
            "GET",
            "/api/admin/audit-logs",
            None,
            "cursor=" + cursor_of(["2026-01-01T00:00:00+00:00", "9" * 30]),
        ),
        "cursor",
        id="out-of-bigint-cursor-id",
    ),
    pytest.param(
        ("GET", "/api/admin/online-logs", None, "to=9999-12-31T23:59:59-23:59"),
        "to",
        id="year-10000-time-filter",
    ),
]


def test_correct_operator_password_logs_in_after_every_poisoning_request(admin_api, root):
    for param in POISON:
        (method, path, body, query), field = param.values
        response = admin_api.request(
            method,
            path + (f"?{query}" if query else ""),
            content=body.encode() if body else None,
            headers={**root.headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 400, (param.id, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert field in [f["field"] for f in error["details"]["fields"]], param.id
        assert login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD).status_code == 200, param.id

    for _ in range(10):
        assert login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD).status_code == 200
