"""One pending invoice per package: keyless presses while an invoice is open return it (200)
instead of creating another, also when they race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tests.conftest import bearer, random_phone


def _buyer(api, accounts):  # type: ignore[no-untyped-def]
    account = accounts.sign_in_with_phone(random_phone())
    headers = bearer(account.id_token)
    client_id = api.post(
        "/api/client/auth/register", json={"display_name": "Pembeli Sekali"}, headers=headers
    ).json()["id"]
    return headers, client_id


def _package(database, name: str) -> str:
    with database.begin() as connection:
        return str(
            connection.execute(
                sa.text(
                    "INSERT INTO packages (name, sessions, price, sort_order)"
                    " VALUES (:n, 2, 50000, 95) RETURNING id"
                ),
                {"n": name},
            ).scalar_one()
        )


def _payment_ids(database, client_id: str) -> list[str]:
    with database.connect() as connection:
        return [
            str(v)
            for v in connection.execute(
                sa.text("SELECT id FROM payments WHERE client_id = :c ORDER BY created_at"),
                {"c": client_id},
            ).scalars()
        ]


def test_racing_presses_make_one_invoice_and_later_presses_get_it(api, accounts, database, stack):
    headers, client_id = _buyer(api, accounts)
    package = _package(database, "2 sesi sekali")

    def press(_: int):  # type: ignore[no-untyped-def]
        return api.post("/api/client/payments", json={"package_id": package}, headers=headers)

    with ThreadPoolExecutor(max_workers=6) as pool:
        racing = list(pool.map(press, range(6)))

    assert {r.status_code for r in racing} <= {200, 201, 409}  # 409: being created, retry
    assert [r.status_code for r in racing].count(201) == 1
    first = next(r for r in racing if r.status_code == 201).json()
    again = press(0)
    assert again.status_code == 200 and again.json() == first
    assert _payment_ids(database, client_id) == [first["id"]]
    assert len([i for i in stack.xendit.invoices() if i["external_id"] == first["id"]]) == 1

    # Another package is another invoice.
    other = api.post(
        "/api/client/payments",
        json={"package_id": _package(database, "2 sesi lain")},
        headers=headers,
    )
    assert other.status_code == 201 and other.json()["id"] != first["id"]

    # An invoice about to expire is not handed out again.
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE payments SET expires_at = now() + interval '1 minute' WHERE id = :id"),
            {"id": first["id"]},
        )
    renewed = press(0)
    assert renewed.status_code == 201 and renewed.json()["id"] != first["id"]
    assert len(_payment_ids(database, client_id)) == 3
