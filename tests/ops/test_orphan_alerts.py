"""Orphan alerts reach a person: the sweeper's detection is a domain event on the events
topic, an `orphan_detected` / `orphan_handled` signal pair for the alert policy, and a
`session.orphaned` event on the open control-center dashboard streams."""

from __future__ import annotations

import json

from shared.domain import settings
from tests.support.admin import Stream, go_offline, go_online
from tests.support.sessions import start_session


def test_an_orphan_is_an_event_on_the_dashboard_stream_a_domain_event_and_a_signal(
    api, stack, admin_api, viewer, make_client, make_mitra, server_log
):
    client, mitra = make_client(), make_mitra()
    go_online(api, mitra)
    session_id = str(start_session(client.id, mitra.id))
    go_offline(api, mitra)
    sweeper_log = server_log("sweeper")
    stream = Stream(stack.admin_url, "/api/admin/dashboard/stream", viewer.headers)
    before = settings.current()
    settings.save(before.model_copy(update={"orphan_action": "alert", "orphan_grace_s": 0}), None)
    try:
        assert stream.status_code == 200
        assert stream.next_of("dashboard").event == "dashboard"
        assert stack.sweep_now() == 200
        alerts = []
        while not any(a["data"]["session_id"] == session_id for a in alerts):
            alerts.append(json.loads(stream.next_of("session.orphaned", timeout=10).data))
    finally:
        settings.save(before, None)
        stream.close()

    [mine] = [a for a in alerts if a["data"]["session_id"] == session_id]
    assert mine["data"]["outcome"] == "alert"
    [detected] = sweeper_log.signals("orphan_detected", session_id=session_id)
    assert detected["age_s"] >= 0 and detected["severity"] == "WARNING"
    [handled] = sweeper_log.signals("orphan_handled", session_id=session_id)
    assert handled["action"] == "alerted"
    domain = [
        e
        for e in sweeper_log.entries()
        if e.get("event_type") == "session.orphaned" and e.get("session_id") == session_id
    ]
    assert len(domain) == 1
