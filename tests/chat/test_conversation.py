"""A scripted conversation over real HTTP and real event streams: every message arrives on
both participants' streams, complete and in order, also across a forced reconnect."""

from __future__ import annotations

import itertools

from tests.chat.conftest import send


def _script(count: int) -> list[tuple[str, str]]:
    """Who says what: runs of one side then the other, like a real chat."""
    sides = itertools.cycle(["client"] * 3 + ["mitra"] * 2)
    return [(next(sides), f"pesan {n}: apa kabar hari ini?") for n in range(count)]


def test_200_messages_arrive_complete_and_in_order_on_both_streams_across_a_reconnect(
    api, chat, open_stream
):
    client_stream = open_stream("client", chat.client)
    mitra_stream = open_stream("mitra", chat.mitra)
    script = _script(200)
    sent: list[dict] = []
    client_seen: list[dict] = []

    for index, (side, text) in enumerate(script):
        if index == 90:
            # The client's network drops; the app reconnects with the last event id it saw.
            client_seen += client_stream.collect("chat.message", 90)
            last_id = client_stream.last_id
            client_stream.cut()
        response = send(api, chat, side, text)
        assert response.status_code == 201, response.text
        sent.append(response.json())
        if index == 120:
            client_stream = open_stream("client", chat.client, last_event_id=last_id)

    client_seen += client_stream.collect("chat.message", 200 - len(client_seen))
    mitra_seen = mitra_stream.collect("chat.message", 200)

    expected = [(m["id"], m["seq"], m["sender"], m["text"]) for m in sent]
    assert [m["seq"] for m in sent] == list(range(1, 201))
    assert [(s, t) for _id, _seq, s, t in expected] == script
    for seen in (client_seen, mitra_seen):
        assert [(m["id"], m["seq"], m["sender"], m["text"]) for m in seen] == expected
    # The messages missed while cut came from the stream's replay, no duplicate among them.
    assert len({m["id"] for m in client_seen}) == 200


def test_since_read_fills_what_a_stream_missed(api, chat, open_stream):
    """A reconnect to another instance cannot replay: the app reads after its last message."""
    first = [send(api, chat, "client", f"sebelum {n}").json() for n in range(3)]
    missed = [send(api, chat, "mitra", f"terlewat {n}").json() for n in range(5)]

    page = api.get(
        chat.path("client"),
        params={"since": first[-1]["id"], "limit": 3},
        headers=chat.client.headers,
    ).json()
    rest = api.get(
        chat.path("client"),
        params={"since": page["items"][-1]["id"], "limit": 3},
        headers=chat.client.headers,
    ).json()

    assert [m["id"] for m in page["items"] + rest["items"]] == [m["id"] for m in missed]
    assert page["next_cursor"] is None and len(rest["items"]) == 2


def test_history_pages_newest_first_with_a_cursor(api, chat):
    sent = [send(api, chat, "client" if n % 2 else "mitra", f"m{n}").json() for n in range(7)]

    first = api.get(chat.path("mitra"), params={"limit": 4}, headers=chat.mitra.headers).json()
    second = api.get(
        chat.path("mitra"),
        params={"limit": 4, "cursor": first["next_cursor"]},
        headers=chat.mitra.headers,
    ).json()

    assert [m["text"] for m in first["items"] + second["items"]] == [
        m["text"] for m in reversed(sent)
    ]
    assert second["next_cursor"] is None


def test_read_receipt_and_typing_reach_the_other_side_only(api, chat, open_stream, database):
    client_stream = open_stream("client", chat.client)
    mitra_stream = open_stream("mitra", chat.mitra)
    message = send(api, chat, "mitra", "Halo, aku di sini.").json()

    read = api.post(
        chat.path("client", "read"), json={"up_to": message["id"]}, headers=chat.client.headers
    )
    typing = api.post(chat.path("mitra", "typing"), headers=chat.mitra.headers)

    assert (read.status_code, typing.status_code) == (204, 204)
    receipt = mitra_stream.collect("chat.read", 1)
    assert receipt == [
        {"session_id": chat.session_id, "reader": "client", "up_to": message["id"], "up_to_seq": 1}
    ]
    assert client_stream.collect("chat.typing", 1) == [
        {"session_id": chat.session_id, "sender": "mitra"}
    ]
    assert client_stream.quiet("chat.read") == [] and mitra_stream.quiet("chat.typing") == []
    # Reading the same message again tells nobody anything new.
    api.post(
        chat.path("client", "read"), json={"up_to": message["id"]}, headers=chat.client.headers
    )
    assert mitra_stream.quiet("chat.read") == []


def test_typing_is_never_replayed_on_reconnect(api, chat, open_stream):
    client_stream = open_stream("client", chat.client)
    send(api, chat, "mitra", "satu")
    client_stream.collect("chat.message", 1)
    last_id = client_stream.last_id
    client_stream.cut()
    api.post(chat.path("mitra", "typing"), headers=chat.mitra.headers)
    send(api, chat, "mitra", "dua")

    again = open_stream("client", chat.client, last_event_id=last_id)

    assert [m["text"] for m in again.collect("chat.message", 1)] == ["dua"]
    assert again.quiet("chat.typing") == []
