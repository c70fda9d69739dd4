"""One scripted flow, end to end over real HTTP, with the pushes both phones received as the
FCM stand-in recorded them (run with -s to see them): a mitra online with the app in the
background, a client who asks for a bestie and leaves the app, the accept, the mitra ending
the session, and the sweeper's auto-offline."""

from __future__ import annotations

import json

from tests.push.conftest import pushes
from tests.support.presence import lapse


def _shown(message):
    android = message["android"]
    return {
        "title": message["notification"]["title"],
        "body": message["notification"]["body"],
        "data": {k: v for k, v in message["data"].items() if k != "sent_at"},
        "collapse_key": android["collapse_key"],
        "ttl": android["ttl"],
        "priority": android["priority"],
    }


def test_scripted_flow_pushes(api, stack, fcm, make_mitra, make_client, register_device):
    mitra = make_mitra("Mitra Rahasia")
    client = make_client("Klien Rahasia")
    mitra_phone = register_device(mitra, "mitra", locale="id-ID")
    client_phone = register_device(client, "client", locale="id-ID")
    assert (
        api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers).status_code
        == 200
    )

    request = api.post("/api/client/pairing-requests", headers=client.headers).json()
    assert pushes(fcm, mitra_phone)[-1]["data"]["type"] == "pairing.waiting"
    accepted = api.post(
        f"/api/mitra/pairing-requests/{request['id']}/accept", headers=mitra.headers
    ).json()
    assert pushes(fcm, client_phone)[-1]["data"]["type"] == "pairing.matched"
    ended = api.post(
        f"/api/mitra/sessions/{accepted['session_id']}/end", json={}, headers=mitra.headers
    )
    assert ended.status_code == 200, ended.text
    assert pushes(fcm, client_phone, at_least=2)[-1]["data"]["type"] == "session.ended"
    lapse(mitra.id)
    assert stack.sweep_now() == 200

    client_got = [_shown(m) for m in pushes(fcm, client_phone, at_least=2)]
    mitra_got = [_shown(m) for m in pushes(fcm, mitra_phone, at_least=2)]
    print("\nclient phone received:\n" + json.dumps(client_got, indent=1, ensure_ascii=False))
    print("mitra phone received:\n" + json.dumps(mitra_got, indent=1, ensure_ascii=False))
    assert [m["data"]["type"] for m in client_got] == ["pairing.matched", "session.ended"]
    assert [m["data"]["type"] for m in mitra_got] == ["pairing.waiting", "presence.offline"]
    for shown in client_got + mitra_got:
        text = (shown["title"] + shown["body"]).lower()
        assert "rahasia" not in text and "konsel" not in text and "counsel" not in text
