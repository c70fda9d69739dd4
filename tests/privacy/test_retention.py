"""Retention: the sweeper's `retention` step deletes (or anonymises) exactly the rows past
their retention, and retention settings out of range are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.domain import settings

SLACK = timedelta(hours=1)


def _insert(database, sql: str, **values) -> object:  # type: ignore[no-untyped-def]
    with database.begin() as connection:
        return connection.execute(sa.text(sql + " RETURNING id"), values).scalar_one()


def test_the_retention_step_removes_exactly_the_rows_past_their_age(
    stack, database, make_client, make_mitra
):
    current = settings.current()
    now = datetime.now(UTC)
    mitra = make_mitra("Mitra Lama")
    client = make_client("Klien Lama")
    rows: dict[str, dict[bool, object]] = {}

    def ages(days: int) -> dict[bool, datetime]:
        # True: just past the retention; False: just inside it.
        return {True: now - timedelta(days=days) - SLACK, False: now - timedelta(days=days) + SLACK}

    rows["online"] = {
        past: _insert(
            database,
            "INSERT INTO mitra_online_log (mitra_id, status, reason, at)"
            " VALUES (:m, 'offline', 'manual', :at)",
            m=mitra.id,
            at=at,
        )
        for past, at in ages(current.retention_online_logs_days).items()
    }
    rows["requests"] = {
        past: _insert(
            database,
            "INSERT INTO pairing_requests (client_id, status, created_at, expires_at, closed_at)"
            " VALUES (:c, 'expired', :at, :at, :at)",
            c=client.id,
            at=at,
        )
        for past, at in ages(current.retention_pairing_requests_days).items()
    }
    rows["sessions"] = {
        past: _insert(
            database,
            "INSERT INTO sessions (client_id, mitra_id, status, started_at, ended_at, ended_by,"
            " end_reason) VALUES (:c, :m, 'ended', :at, :at, 'client', 'alasan pribadi')",
            c=client.id,
            m=mitra.id,
            at=at,
        )
        for past, at in ages(current.retention_session_details_days).items()
    }
    rows["audit"] = {
        past: _insert(
            database,
            "INSERT INTO audit_log (action, target_type, target_id, at)"
            " VALUES ('test.retention', 'test', 'x', :at)",
            at=at,
        )
        for past, at in ages(current.retention_audit_days).items()
    }

    assert stack.sweep_now() == 200

    with database.connect() as connection:

        def present(table: str, row_id: object) -> bool:
            return bool(
                connection.execute(
                    sa.text(f"SELECT count(*) FROM {table} WHERE id = :id"),  # noqa: S608
                    {"id": row_id},
                ).scalar_one()
            )

        for key, table in (
            ("online", "mitra_online_log"),
            ("requests", "pairing_requests"),
            ("audit", "audit_log"),
        ):
            assert not present(table, rows[key][True]), key
            assert present(table, rows[key][False]), key
        reasons = dict(
            connection.execute(
                sa.text("SELECT id, end_reason FROM sessions WHERE id IN (:a, :b)"),
                {"a": rows["sessions"][True], "b": rows["sessions"][False]},
            ).all()
        )
    assert reasons == {rows["sessions"][True]: None, rows["sessions"][False]: "alasan pribadi"}


@pytest.mark.parametrize(
    "change",
    [
        {"retention_online_logs_days": 29},
        {"retention_pairing_requests_days": 3651},
        {"retention_session_details_days": -1},
        {"retention_audit_days": 364},
        {"retention_audit_days": None},
    ],
)
def test_retention_settings_out_of_range_are_refused(admin_api, admin, database, change):
    with database.connect() as connection:
        before = connection.execute(sa.text("SELECT max(version) FROM settings_versions")).scalar()

    response = admin_api.put("/api/admin/settings", json=change, headers=admin.headers)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    with database.connect() as connection:
        after = connection.execute(sa.text("SELECT max(version) FROM settings_versions")).scalar()
    assert after == before
