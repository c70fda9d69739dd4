"""Superadmin credit adjustments: a ledger entry with its own reference and reason, seen in
the client's entitlement and audited in the same transaction; bad adjustments and callers
are refused with nothing written."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.admin.conftest import audit_rows


def _path(client_id: str) -> str:
    return f"/api/admin/users/{client_id}/credit-adjustments"


def _credits(api, client) -> int:
    return api.get("/api/client/entitlement", headers=client.headers).json()["credits"]


def _written(database, client_id: str) -> tuple[int, int]:
    """(ledger entries, audit rows) of this client."""
    with database.connect() as connection:
        entries = connection.execute(
            sa.text("SELECT count(*) FROM credit_ledger WHERE client_id = :id"), {"id": client_id}
        ).scalar_one()
    return entries, len(audit_rows(database, client_id))


def test_a_grant_and_a_refund_are_ledger_entries_seen_in_the_entitlement_and_audited(
    api, admin_api, root, make_client, database
):
    client = make_client()

    granted = admin_api.post(
        _path(client.id),
        json={"sessions": 5, "reason": "Goodwill after an outage"},
        headers=root.headers,
    )
    refunded = admin_api.post(
        _path(client.id),
        json={"sessions": -2, "reason": "Refunded by bank transfer"},
        headers=root.headers,
    )

    assert granted.status_code == 201, granted.text
    assert refunded.status_code == 201, refunded.text
    grant, refund = granted.json(), refunded.json()
    assert (grant["type"], grant["sessions"], grant["balance"]["credits"]) == ("grant", 5, 5)
    assert (refund["type"], refund["sessions"], refund["balance"]["credits"]) == ("refund", -2, 3)
    assert grant["reference"] != refund["reference"]
    assert grant["operator_id"] == root.id and grant["kind"] == "adjustment"
    assert _credits(api, client) == 3
    with database.connect() as connection:
        entries = connection.execute(
            sa.text(
                "SELECT kind, bucket, sessions, reason, operator_id FROM credit_ledger"
                " WHERE client_id = :id AND kind = 'adjustment' ORDER BY id"
            ),
            {"id": client.id},
        ).all()
    assert [(e.sessions, e.reason, str(e.operator_id)) for e in entries] == [
        (5, "Goodwill after an outage", root.id),
        (-2, "Refunded by bank transfer", root.id),
    ]
    audits = [r for r in audit_rows(database, client.id) if r.action == "credits.adjust"]
    assert [(a.before["credits"], a.after["credits"]) for a in audits] == [(0, 5), (5, 3)]
    assert audits[1].after["reason"] == "Refunded by bank transfer"
    assert {str(a.operator_id) for a in audits} == {root.id}
    detail = admin_api.get(f"/api/admin/users/{client.id}", headers=root.headers).json()
    assert detail["credits"] == 3  # the operators' view of the balance agrees


def test_a_retry_with_the_same_idempotency_key_adjusts_once(api, admin_api, root, make_client):
    client = make_client()
    headers = {**root.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"sessions": 2, "reason": "Compensation"}

    first = admin_api.post(_path(client.id), json=body, headers=headers)
    again = admin_api.post(_path(client.id), json=body, headers=headers)
    other = admin_api.post(_path(client.id), json={**body, "sessions": 3}, headers=headers)

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert first.json()["id"] == again.json()["id"]
    assert _credits(api, client) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sessions": 0, "reason": "nothing at all"}, "sessions"),
        ({"sessions": 101, "reason": "a typo, surely"}, "sessions"),
        ({"sessions": -1000, "reason": "a typo, surely"}, "sessions"),
        ({"sessions": 5}, "reason"),
        ({"sessions": 5, "reason": "  ok  "}, "reason"),
        ({"sessions": 5, "reason": "x" * 501}, "reason"),
        ({"sessions": "5", "reason": "a string number"}, "sessions"),
        ({"sessions": 2.5, "reason": "half a session"}, "sessions"),
    ],
)
def test_bad_adjustments_are_400_and_write_nothing(
    admin_api, root, make_client, database, body, field
):
    client = make_client()
    before = _written(database, client.id)

    response = admin_api.post(_path(client.id), json=body, headers=root.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in str(error["details"])
    assert _written(database, client.id) == before


def test_a_refund_below_zero_credits_is_409_and_writes_nothing(
    admin_api, root, make_client, database
):
    client = make_client()  # a trial session, no bought credits
    before = _written(database, client.id)

    response = admin_api.post(
        _path(client.id), json={"sessions": -1, "reason": "Take one back"}, headers=root.headers
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert _written(database, client.id) == before


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_only_a_superadmin_may_adjust(admin_api, make_operator, make_client, database, role):
    operator = make_operator(role)
    client = make_client()
    before = _written(database, client.id)

    response = admin_api.post(
        _path(client.id),
        json={"sessions": 5, "reason": "Not mine to give"},
        headers=operator.headers,
    )
    anonymous = admin_api.post(_path(client.id), json={"sessions": 5, "reason": "Nobody"})

    assert response.status_code == 403
    assert anonymous.status_code == 401
    assert _written(database, client.id) == before


def test_an_unknown_client_is_404(admin_api, root):
    response = admin_api.post(
        _path(str(uuid.uuid4())),
        json={"sessions": 1, "reason": "Who is this"},
        headers=root.headers,
    )
    assert response.status_code == 404


def test_concurrent_refunds_never_take_the_credits_below_zero(
    api, admin_api, root, make_client, database
):
    client = make_client()
    granted = admin_api.post(
        _path(client.id),
        json={"sessions": 3, "reason": "Three to take back"},
        headers=root.headers,
    )
    assert granted.status_code == 201

    def refund(_: int) -> int:
        return admin_api.post(
            _path(client.id), json={"sessions": -1, "reason": "One back"}, headers=root.headers
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(refund, range(8)))

    assert statuses == [201] * 3 + [409] * 5
    assert _credits(api, client) == 0
    assert _written(database, client.id)[0] == 1 + 1 + 3  # trial grant, grant, 3 refunds
