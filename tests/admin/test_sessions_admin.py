"""Session management from the control center over real HTTP: list and detail, an
operator's end, and reroute — to a named mitra (capacity taken atomically, racing pairing's
accept) or by re-blast (pairing's accept moves the same session)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from shared.domain import pairing
from tests.admin.conftest import audit_rows
from tests.support.admin import (
    Stream,
    go_offline,
    go_online,
    load_of,
    only_these_online,
)
from tests.support.sessions import start_session


def _session_row(database, session_id) -> sa.Row:
    with database.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT status, mitra_id, orphaned_at,"
                " (SELECT count(*) FROM session_assignments WHERE session_id = s.id) AS stints"
                " FROM sessions s WHERE id = :id"
            ),
            {"id": session_id},
        ).one()


def _active_sessions_of(database, mitra_id) -> int:
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM sessions WHERE mitra_id = :m AND status = 'active'"),
            {"m": mitra_id},
        ).scalar_one()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# -- list and detail ------------------------------------------------------------------------


def test_list_filters_by_mitra_client_status_and_start_time(
    admin_api, admin, viewer, make_client, make_mitra
):
    first, second = make_client(), make_client()
    mitra_x, mitra_y = make_mitra(), make_mitra()
    active = start_session(first.id, mitra_x.id)
    ended = start_session(second.id, mitra_y.id)
    admin_api.post(f"/api/admin/sessions/{ended}/end", json={"reason": "x"}, headers=admin.headers)
    now = datetime.now(UTC)

    def ids(**params) -> list[str]:
        response = admin_api.get("/api/admin/sessions", params=params, headers=viewer.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(mitra_id=mitra_x.id) == [str(active)]
    assert ids(client_id=second.id) == [str(ended)]
    assert ids(client_id=second.id, status="active") == []
    assert ids(client_id=first.id, status="active") == [str(active)]
    window = {"from": _iso(now - timedelta(minutes=5)), "to": _iso(now + timedelta(minutes=1))}
    assert ids(mitra_id=mitra_x.id, **window) == [str(active)]
    earlier = {"from": _iso(now - timedelta(days=2)), "to": _iso(now - timedelta(days=1))}
    assert ids(mitra_id=mitra_x.id, **earlier) == []


def test_list_pages_newest_first_without_repeats(admin_api, viewer, make_client, make_mitra):
    mitra = make_mitra()
    made = []
    for _ in range(3):
        client = make_client()
        made.append(str(start_session(client.id, mitra.id)))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"mitra_id": mitra.id, "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = admin_api.get("/api/admin/sessions", params=params, headers=viewer.headers).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(made))


def test_time_ranges_reversed_or_over_31_days_are_refused(admin_api, viewer):
    now = datetime.now(UTC)
    reversed_range = {"from": _iso(now), "to": _iso(now - timedelta(hours=1))}
    too_long = {"from": _iso(now - timedelta(days=32)), "to": _iso(now)}
    naive = {"from": "2026-01-01T00:00:00"}

    for params in (reversed_range, too_long, naive):
        response = admin_api.get("/api/admin/sessions", params=params, headers=viewer.headers)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid_request"


def test_unknown_session_is_not_found(admin_api, viewer):
    response = admin_api.get(f"/api/admin/sessions/{uuid.uuid4()}", headers=viewer.headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# -- end ------------------------------------------------------------------------------------


def test_operator_end_tells_both_apps_frees_the_mitra_and_is_audited(
    stack, admin_api, admin, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    session_id = start_session(client.id, mitra.id)
    client_stream = Stream(stack.public_url, "/api/client/events", client.headers)
    mitra_stream = Stream(stack.public_url, "/api/mitra/events", mitra.headers)
    try:
        client_stream.next_of("snapshot")
        mitra_stream.next_of("snapshot")
        response = admin_api.post(
            f"/api/admin/sessions/{session_id}/end",
            json={"reason": "client reported abuse"},
            headers=admin.headers,
        )
        client_event = client_stream.next_of("session.ended")
        mitra_event = mitra_stream.next_of("session.ended")
    finally:
        client_stream.close()
        mitra_stream.close()

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["ended_by"], body["end_reason"]) == (
        "ended",
        "operator",
        "client reported abuse",
    )
    assert body["ended_by_operator"] == admin.id
    assert client_event.json()["data"]["session_id"] == str(session_id)
    assert mitra_event.json()["data"]["ended_by"] == "operator"
    assert load_of(mitra.id) == 0
    assert [row.action for row in audit_rows(database, session_id)] == ["session.end"]


def test_ending_an_ended_session_again_changes_nothing(
    admin_api, admin, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    session_id = start_session(client.id, mitra.id)
    first = admin_api.post(
        f"/api/admin/sessions/{session_id}/end", json={"reason": "one"}, headers=admin.headers
    )

    again = admin_api.post(
        f"/api/admin/sessions/{session_id}/end", json={"reason": "two"}, headers=admin.headers
    )

    assert again.status_code == 200
    assert again.json()["end_reason"] == "one"
    assert again.json()["ended_at"] == first.json()["ended_at"]
    assert len(audit_rows(database, session_id)) == 1


def test_end_needs_a_reason_and_the_admin_role(
    admin_api, admin, viewer, make_client, make_mitra, database
):
    client, mitra = make_client(), make_mitra()
    session_id = start_session(client.id, mitra.id)

    no_reason = admin_api.post(
        f"/api/admin/sessions/{session_id}/end", json={}, headers=admin.headers
    )
    blank = admin_api.post(
        f"/api/admin/sessions/{session_id}/end", json={"reason": "  "}, headers=admin.headers
    )
    as_viewer = admin_api.post(
        f"/api/admin/sessions/{session_id}/end", json={"reason": "x"}, headers=viewer.headers
    )

    assert (no_reason.status_code, blank.status_code, as_viewer.status_code) == (400, 400, 403)
    assert _session_row(database, session_id).status == "active"


# -- reroute to a named mitra ---------------------------------------------------------------


def test_reroute_to_a_named_mitra_moves_the_session_and_tells_all_three(
    stack, api, admin_api, admin, make_client, make_mitra, database
):
    client, old, new = make_client(), make_mitra(), make_mitra()
    session_id = start_session(client.id, old.id)
    go_online(api, new)
    streams = {
        "client": Stream(stack.public_url, "/api/client/events", client.headers),
        "old": Stream(stack.public_url, "/api/mitra/events", old.headers),
        "new": Stream(stack.public_url, "/api/mitra/events", new.headers),
    }
    try:
        for stream in streams.values():
            stream.next_of("snapshot")
        response = admin_api.post(
            f"/api/admin/sessions/{session_id}/reroute",
            json={"mitra_id": new.id},
            headers=admin.headers,
        )
        heard = {name: s.next_of("session.rerouted").json()["data"] for name, s in streams.items()}
    finally:
        for stream in streams.values():
            stream.close()
        go_offline(api, new)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mitra"]["id"] == new.id
    assert [(h["mitra_id"], h["reason"]) for h in body["history"]] == [
        (old.id, "matched"),
        (new.id, "rerouted"),
    ]
    assert body["history"][0]["to"] == body["history"][1]["from"]
    assert body["history"][1]["to"] is None
    assert (load_of(old.id), load_of(new.id)) == (0, 1)
    assert new.id not in str(heard["client"])  # no mitra id to the client (docs/anonymity.md)
    assert heard["old"]["direction"] == "away"
    assert heard["new"]["direction"] == "to"
    assert heard["new"]["client"]["display_name"] == "Klien Uji"
    assert [row.action for row in audit_rows(database, session_id)] == ["session.reroute"]


def test_refused_reroutes_move_nothing(api, admin_api, admin, make_client, make_mitra, database):
    client, holder = make_client(), make_mitra()
    session_id = start_session(client.id, holder.id)
    offline = make_mitra()
    full = make_mitra(max_customers=1)
    go_online(api, full)
    start_session(make_client().id, full.id)
    suspended = make_mitra()
    go_online(api, suspended)
    patched = admin_api.patch(
        f"/api/admin/mitras/{suspended.id}", json={"status": "suspended"}, headers=admin.headers
    )
    assert patched.status_code == 200
    before = _session_row(database, session_id)

    def reroute(mitra_id: str):
        return admin_api.post(
            f"/api/admin/sessions/{session_id}/reroute",
            json={"mitra_id": mitra_id},
            headers=admin.headers,
        )

    try:
        answers = {
            "offline": reroute(offline.id),
            "full": reroute(full.id),
            "suspended": reroute(suspended.id),
            "unknown": reroute(str(uuid.uuid4())),
            "same": reroute(holder.id),
        }
    finally:
        go_offline(api, full)

    codes = {name: (r.status_code, r.json()["error"]["code"]) for name, r in answers.items()}
    assert codes == {
        "offline": (409, "not_online"),
        "full": (409, "at_capacity"),
        "suspended": (409, "not_online"),
        "unknown": (404, "not_found"),
        "same": (409, "conflict"),
    }
    assert _session_row(database, session_id) == before
    assert (load_of(holder.id), load_of(full.id), load_of(offline.id)) == (1, 1, 0)
    assert audit_rows(database, session_id) == []


def test_reroute_of_an_ended_session_is_refused(api, admin_api, admin, make_client, make_mitra):
    client, holder, target = make_client(), make_mitra(), make_mitra()
    session_id = start_session(client.id, holder.id)
    admin_api.post(
        f"/api/admin/sessions/{session_id}/end", json={"reason": "done"}, headers=admin.headers
    )
    go_online(api, target)
    try:
        named = admin_api.post(
            f"/api/admin/sessions/{session_id}/reroute",
            json={"mitra_id": target.id},
            headers=admin.headers,
        )
        reblast = admin_api.post(
            f"/api/admin/sessions/{session_id}/reroute", json={}, headers=admin.headers
        )
    finally:
        go_offline(api, target)

    assert (named.status_code, named.json()["error"]["code"]) == (409, "session_ended")
    assert (reblast.status_code, reblast.json()["error"]["code"]) == (409, "session_ended")
    assert load_of(target.id) == 0


def test_reroute_racing_an_accept_for_the_last_unit_never_exceeds_capacity(
    api, admin_api, admin, make_client, make_mitra, database
):
    """Each round: a capacity-1 mitra is offered a new client's request while an operator
    reroutes another session to it; the accept and the reroute hit the real servers at the
    same moment. Exactly one wins the unit."""
    target = make_mitra(max_customers=1)
    holder = make_mitra()
    with only_these_online():
        go_online(api, target)
        try:
            for _ in range(6):
                rerouted_client, searching_client = make_client(), make_client()
                session_id = start_session(rerouted_client.id, holder.id)
                request = api.post("/api/client/pairing-requests", headers=searching_client.headers)
                assert request.json()["offered_to"] == 1, request.text
                request_id = request.json()["id"]

                with ThreadPoolExecutor(2) as pool:
                    accept = pool.submit(
                        api.post,
                        f"/api/mitra/pairing-requests/{request_id}/accept",
                        headers=target.headers,
                    )
                    reroute = pool.submit(
                        admin_api.post,
                        f"/api/admin/sessions/{session_id}/reroute",
                        json={"mitra_id": target.id},
                        headers=admin.headers,
                    )
                    statuses = sorted([accept.result().status_code, reroute.result().status_code])

                assert statuses == [200, 409]
                loser = accept.result() if accept.result().status_code == 409 else reroute.result()
                assert loser.json()["error"]["code"] == "at_capacity"
                assert load_of(target.id) == 1
                assert _active_sessions_of(database, target.id) == 1
                _end_all(admin_api, admin, database, target.id, holder.id)
                pairing.cancel_open_request(uuid.UUID(searching_client.id))
        finally:
            go_offline(api, target)


def _end_all(admin_api, admin, database, *mitra_ids) -> None:
    with database.connect() as connection:
        ids = connection.execute(
            sa.text(
                "SELECT id FROM sessions WHERE status = 'active'"
                " AND mitra_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": list(mitra_ids)},
        ).scalars()
        for session_id in list(ids):
            admin_api.post(
                f"/api/admin/sessions/{session_id}/end",
                json={"reason": "round over"},
                headers=admin.headers,
            )


# -- reroute by re-blast --------------------------------------------------------------------


def test_reblast_reroute_moves_the_same_session_to_the_accepting_mitra(
    stack, api, admin_api, admin, make_client, make_mitra, database
):
    client, old, new = make_client(), make_mitra(), make_mitra()
    session_id = start_session(client.id, old.id)
    client_stream = Stream(stack.public_url, "/api/client/events", client.headers)
    with only_these_online():
        go_online(api, old)  # online, but a re-blast never offers the session back to it
        go_online(api, new)
        try:
            client_stream.next_of("snapshot")
            queued = admin_api.post(
                f"/api/admin/sessions/{session_id}/reroute", json={}, headers=admin.headers
            )
            searching = client_stream.next_of("session.rerouted").json()["data"]
            old_offers = api.get("/api/mitra/pairing-requests", headers=old.headers).json()
            refused = api.post(
                f"/api/mitra/pairing-requests/{queued.json()['pairing_request_id']}/accept",
                headers=old.headers,
            )
            accepted = api.post(
                f"/api/mitra/pairing-requests/{queued.json()['pairing_request_id']}/accept",
                headers=new.headers,
            )
            moved = client_stream.next_of("session.rerouted").json()["data"]
        finally:
            client_stream.close()
            go_offline(api, old)
            go_offline(api, new)

    assert queued.status_code == 202, queued.text
    assert (queued.json()["status"], queued.json()["offered_to"]) == ("searching", 1)
    # Other tests' open requests may be offered to it; this re-blast never is.
    assert queued.json()["pairing_request_id"] not in {o["id"] for o in old_offers["items"]}
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_offered")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["session_id"] == str(session_id)
    assert (searching["phase"], moved["phase"]) == ("searching", "moved")
    assert new.id not in str(moved)
    detail = admin_api.get(f"/api/admin/sessions/{session_id}", headers=admin.headers).json()
    assert [(h["mitra_id"], h["reason"]) for h in detail["history"]] == [
        (old.id, "matched"),
        (new.id, "reblast"),
    ]
    assert (load_of(old.id), load_of(new.id)) == (0, 1)
    with database.connect() as connection:
        consumed = connection.execute(
            sa.text(
                "SELECT count(*) FROM credit_ledger WHERE client_id = :c AND kind = 'consumption'"
            ),
            {"c": client.id},
        ).scalar_one()
    assert consumed == 1  # the move starts no new session and consumes nothing


def test_reblast_with_nobody_available_leaves_the_session_where_it_is(
    admin_api, admin, make_client, make_mitra, database
):
    client, holder = make_client(), make_mitra()
    session_id = start_session(client.id, holder.id)
    with only_these_online():
        response = admin_api.post(
            f"/api/admin/sessions/{session_id}/reroute", json={}, headers=admin.headers
        )

    assert response.status_code == 202
    assert response.json()["status"] == "no_bestie"
    assert str(_session_row(database, session_id).mitra_id) == holder.id


def test_accepting_a_reblast_whose_session_ended_meanwhile_moves_nothing(
    api, admin_api, admin, make_client, make_mitra, database
):
    client, old, new = make_client(), make_mitra(), make_mitra()
    session_id = start_session(client.id, old.id)
    with only_these_online():
        go_online(api, new)
        try:
            queued = admin_api.post(
                f"/api/admin/sessions/{session_id}/reroute", json={}, headers=admin.headers
            ).json()
            ended = api.post(
                f"/api/client/sessions/{session_id}/end", json={}, headers=client.headers
            )
            late = api.post(
                f"/api/mitra/pairing-requests/{queued['pairing_request_id']}/accept",
                headers=new.headers,
            )
        finally:
            go_offline(api, new)

    assert ended.status_code == 200
    assert (late.status_code, late.json()["error"]["code"]) == (410, "expired")
    assert load_of(new.id) == 0
    with database.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM pairing_requests WHERE id = :id"),
            {"id": queued["pairing_request_id"]},
        ).scalar_one()
    assert status == "cancelled"
    assert str(_session_row(database, session_id).mitra_id) == old.id


def test_a_second_reblast_while_one_searches_names_the_running_one(
    api, admin_api, admin, make_client, make_mitra
):
    client, old, new = make_client(), make_mitra(), make_mitra()
    session_id = start_session(client.id, old.id)
    path = f"/api/admin/sessions/{session_id}/reroute"
    with only_these_online():
        go_online(api, new)
        try:
            first = admin_api.post(path, json={}, headers=admin.headers)
            second = admin_api.post(path, json={}, headers=admin.headers)
        finally:
            pairing.cancel_open_request(uuid.UUID(client.id))
            go_offline(api, new)

    assert first.status_code == 202
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_searching")
    assert second.json()["error"]["details"]["request_id"] == first.json()["pairing_request_id"]
