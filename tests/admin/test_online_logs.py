"""Mitra online logs from the control center over real HTTP: transitions newest first per
mitra and across all, and online time per mitra per Asia/Jakarta day computed in SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.support.admin import go_offline, go_online, insert_mitra


def _log(database, mitra_id: str, *rows: tuple[str, str]) -> None:
    with database.begin() as connection:
        for status, at in rows:
            connection.execute(
                sa.text(
                    "INSERT INTO mitra_online_log (mitra_id, status, reason, at)"
                    " VALUES (:m, :s, 'manual', CAST(:at AS timestamptz))"
                ),
                {"m": mitra_id, "s": status, "at": at},
            )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_mitras_transitions_come_newest_first_page_by_page(api, admin_api, viewer, make_mitra):
    mitra = make_mitra()
    for _ in range(2):
        go_online(api, mitra)
        go_offline(api, mitra)
    path = f"/api/admin/mitras/{mitra.id}/online-logs"

    first = admin_api.get(path, params={"limit": 3}, headers=viewer.headers).json()
    second = admin_api.get(
        path, params={"limit": 3, "cursor": first["next_cursor"]}, headers=viewer.headers
    ).json()

    statuses = [item["status"] for item in first["items"] + second["items"]]
    assert statuses == ["offline", "online", "offline", "online"]
    assert {item["reason"] for item in first["items"]} == {"manual"}
    assert second["next_cursor"] is None
    times = [item["at"] for item in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)


def test_all_logs_filter_by_mitra_and_time_range(api, admin_api, viewer, make_mitra):
    mitra, other = make_mitra(), make_mitra()
    go_online(api, mitra)
    go_online(api, other)
    go_offline(api, mitra)
    go_offline(api, other)
    now = datetime.now(UTC)

    def items(**params):
        response = admin_api.get("/api/admin/online-logs", params=params, headers=viewer.headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    recent = {"from": _iso(now - timedelta(minutes=5)), "to": _iso(now + timedelta(minutes=1))}
    long_ago = {"from": _iso(now - timedelta(days=3)), "to": _iso(now - timedelta(days=2))}
    assert [i["status"] for i in items(mitra_id=mitra.id, **recent)] == ["offline", "online"]
    assert {i["mitra_id"] for i in items(mitra_id=other.id)} == {other.id}
    assert items(mitra_id=mitra.id, **long_ago) == []
    assert {mitra.id, other.id} <= {i["mitra_id"] for i in items(**recent, limit=200)}


def test_unknown_mitra_has_no_log(admin_api, viewer):
    response = admin_api.get(
        f"/api/admin/mitras/{uuid.uuid4()}/online-logs", headers=viewer.headers
    )

    assert response.status_code == 404


def test_online_time_is_split_at_jakarta_midnights_and_clipped_to_the_range(
    admin_api, viewer, database
):
    mitra_id = insert_mitra(database)
    _log(
        database,
        mitra_id,
        ("online", "2021-04-30T23:00:00+07:00"),  # began before the range: counts from its start
        ("offline", "2021-05-01T01:00:00+07:00"),
        ("online", "2021-05-01T22:00:00+07:00"),  # across midnight: 2 h + 2 h
        ("offline", "2021-05-02T02:00:00+07:00"),
        ("online", "2021-05-03T10:00:00+07:00"),
        ("offline", "2021-05-03T10:30:00+07:00"),
        ("online", "2021-05-03T23:30:00+07:00"),  # runs past the range's end
        ("offline", "2021-05-04T01:00:00+07:00"),
    )

    response = admin_api.get(
        "/api/admin/online-durations",
        params={
            "mitra_id": mitra_id,
            "from": "2021-05-01T00:00:00+07:00",
            "to": "2021-05-04T00:00:00+07:00",
        },
        headers=viewer.headers,
    )

    assert response.status_code == 200, response.text
    assert [(i["day"], i["online_s"]) for i in response.json()["items"]] == [
        ("2021-05-03", 3600.0),
        ("2021-05-02", 7200.0),
        ("2021-05-01", 10800.0),
    ]


def test_a_mitra_still_online_counts_up_to_now(admin_api, viewer, database):
    mitra_id = insert_mitra(database)
    began = datetime.now(UTC) - timedelta(minutes=10)
    _log(database, mitra_id, ("online", began.isoformat()))

    items = admin_api.get(
        "/api/admin/online-durations",
        params={"mitra_id": mitra_id, "from": _iso(began - timedelta(hours=1))},
        headers=viewer.headers,
    ).json()["items"]

    assert abs(sum(i["online_s"] for i in items) - 600) < 30


def test_durations_across_mitras_page_by_day_then_mitra(admin_api, viewer, database):
    first, second = insert_mitra(database), insert_mitra(database)
    for mitra_id in (first, second):
        _log(
            database,
            mitra_id,
            ("online", "2021-06-01T08:00:00+07:00"),
            ("offline", "2021-06-02T09:00:00+07:00"),
        )
    params = {"from": "2021-06-01T00:00:00+07:00", "to": "2021-06-03T00:00:00+07:00"}

    seen = []
    cursor = None
    while True:
        page = admin_api.get(
            "/api/admin/online-durations",
            params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})},
            headers=viewer.headers,
        ).json()
        seen += [(i["day"], i["mitra_id"], i["online_s"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    high, low = sorted([first, second], reverse=True)
    assert seen == [
        ("2021-06-02", high, 9 * 3600.0),
        ("2021-06-02", low, 9 * 3600.0),
        ("2021-06-01", high, 16 * 3600.0),
        ("2021-06-01", low, 16 * 3600.0),
    ]


def test_reversed_or_over_long_ranges_are_refused(admin_api, viewer):
    now = datetime.now(UTC)
    reversed_range = {"from": _iso(now), "to": _iso(now - timedelta(seconds=1))}
    too_long = {"from": _iso(now - timedelta(days=31, seconds=1)), "to": _iso(now)}

    for path in ("/api/admin/online-logs", "/api/admin/online-durations"):
        for params in (reversed_range, too_long):
            response = admin_api.get(path, params=params, headers=viewer.headers)
            assert response.status_code == 400, (path, params)
            assert response.json()["error"]["details"]["fields"][0]["field"] == "to"
