"""Buyers (registered clients) and packages for the payments tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import ClientUser, bearer, random_phone


@pytest.fixture(scope="session")
def make_buyer(api, accounts):  # type: ignore[no-untyped-def]
    """A registered client (phone sign-in), who may buy packages."""

    def make(display_name: str = "Pembeli Uji") -> ClientUser:
        account = accounts.sign_in_with_phone(random_phone())
        response = api.post(
            "/api/client/auth/register",
            json={"display_name": display_name},
            headers=bearer(account.id_token),
        )
        assert response.status_code == 201, response.text
        assert response.json()["registered"] is True
        return ClientUser(account=account, id=response.json()["id"])

    return make


@pytest.fixture(scope="session")
def package(database) -> dict:
    """A package of our own (3 sessions for Rp 99.000), so tests do not lean on seed data."""
    with database.begin() as connection:
        row = connection.execute(
            sa.text(
                "INSERT INTO packages (name, sessions, price, sort_order)"
                " VALUES ('3 sesi uji', 3, 99000, 90) RETURNING id, sessions, price"
            )
        ).one()
    return {"id": str(row.id), "sessions": row.sessions, "price": row.price}
