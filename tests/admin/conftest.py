"""Operators for the control-center tests: the seeded superadmin, and fresh operators of any
role created through the API itself."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import bearer

SEEDED_EMAIL = "admin@halobestie.local"
SEEDED_PASSWORD = "test-admin-password"


@dataclass
class OperatorUser:
    id: str
    email: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def login(admin_api: httpx.Client, email: str, password: str) -> httpx.Response:
    return admin_api.post("/api/admin/auth/login", json={"email": email, "password": password})


def random_email(prefix: str = "op") -> str:
    return f"{prefix}-{secrets.token_hex(6)}@halobestie.test"


@pytest.fixture(scope="session")
def root(admin_api: httpx.Client) -> OperatorUser:
    """The seeded superadmin, logged in."""
    response = login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    return OperatorUser(
        id=body["admin"]["id"],
        email=SEEDED_EMAIL,
        password=SEEDED_PASSWORD,
        role="superadmin",
        token=body["token"],
    )


@pytest.fixture(scope="session")
def make_operator(admin_api: httpx.Client, root: OperatorUser):  # type: ignore[no-untyped-def]
    """A new operator of `role`, created by the seeded superadmin and logged in."""

    def make(role: str = "admin") -> OperatorUser:
        email, password = random_email(role), secrets.token_urlsafe(16)
        created = admin_api.post(
            "/api/admin/admins",
            json={"email": email, "password": password, "role": role},
            headers=root.headers,
        )
        assert created.status_code == 201, created.text
        response = login(admin_api, email, password)
        assert response.status_code == 200, response.text
        return OperatorUser(
            id=created.json()["id"],
            email=email,
            password=password,
            role=role,
            token=response.json()["token"],
        )

    return make


@pytest.fixture(scope="session")
def admin(make_operator) -> OperatorUser:  # type: ignore[no-untyped-def]
    return make_operator("admin")


@pytest.fixture(scope="session")
def viewer(make_operator) -> OperatorUser:  # type: ignore[no-untyped-def]
    return make_operator("viewer")


def audit_rows(database: sa.Engine, target_id: str) -> list[sa.Row]:
    with database.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT operator_id, action, target_type, target_id, before, after"
                    " FROM audit_log WHERE target_id = :id ORDER BY id"
                ),
                {"id": str(target_id)},
            )
        )
