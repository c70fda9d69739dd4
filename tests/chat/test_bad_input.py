"""Bad sends and reads answer a clear 4xx and store nothing; retries store one message."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.chat.conftest import send
from tests.support.sessions import start_session


def _stored(database, session_id: str) -> int:
    with database.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM chat_messages WHERE session_id = :s"), {"s": session_id}
        ).scalar_one()


def test_concurrent_retries_of_one_send_store_one_message(api, chat, database):
    body = {"client_message_id": "retry-1", "text": "kirim sekali saja"}

    def post(_: int):
        return api.post(chat.path("client"), json=body, headers=chat.client.headers)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(post, range(24)))

    assert sorted(a.status_code for a in answers) == [200] * 23 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _stored(database, chat.session_id) == 1
    again = api.post(chat.path("client"), json=body, headers=chat.client.headers)
    assert (again.status_code, again.json()["seq"]) == (200, 1)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty"),
        ("   \n\t  ", "blank"),
        ("x" * 4001, "oversized"),
        ("halo\x00", "NUL"),
        ("halo\tdunia", "tab"),
        ("\x1b[31mmerah", "escape"),
        ("\u200b\u200d\ufeff", "invisible only (zero-width space, joiner, BOM)"),
        ("\u00a0\u3000\n\u2028", "separators only"),
        ("halo \u202ekebalik", "bidi override"),
        ("halo\x85dunia", "C1 control"),
        (None, "missing"),
        (42, "not a string"),
    ],
)
def test_bad_text_is_400_and_stores_nothing(api, chat, database, text, problem):
    response = api.post(
        chat.path("client"),
        json={"client_message_id": uuid.uuid4().hex, "text": text},
        headers=chat.client.headers,
    )

    assert response.status_code == 400, problem
    assert response.json()["error"]["code"] == "invalid_request"
    assert "text" in str(response.json()["error"]["details"])
    assert _stored(database, chat.session_id) == 0


def test_emoji_sequences_and_right_to_left_text_are_kept(api, chat):
    # The zero-width joiner inside an emoji sequence and Arabic script are ordinary text.
    for text in ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u0645\u0631\u062d\u0628\u0627"):
        sent = send(api, chat, "client", text)
        assert sent.status_code == 201, sent.text
        assert sent.json()["text"] == text


def test_text_is_trimmed_and_4000_characters_fit(api, chat):
    exact = "é" * 4000
    assert send(api, chat, "client", f"  {exact}\r\n").json()["text"] == exact
    assert (
        send(api, chat, "mitra", "baris satu\r\nbaris dua").json()["text"]
        == "baris satu\nbaris dua"
    )


def test_reused_client_message_id_with_other_text_is_409(api, chat, database):
    assert send(api, chat, "client", "yang asli", cmid="dup-1").status_code == 201

    clash = send(api, chat, "client", "yang lain", cmid="dup-1")

    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "conflict")
    assert _stored(database, chat.session_id) == 1
    # The other side may use the same id for its own message: ids are per sender.
    assert send(api, chat, "mitra", "milik mitra", cmid="dup-1").status_code == 201


def test_ids_from_another_session_are_400(api, chat, make_client, database):
    other_client = make_client("Klien Lain")
    other_session = str(start_session(other_client.id, chat.mitra.id))
    foreign = api.post(
        f"/api/mitra/sessions/{other_session}/messages",
        json={"client_message_id": "f1", "text": "sesi lain"},
        headers=chat.mitra.headers,
    ).json()
    for n in range(3):
        send(api, chat, "mitra", f"pesan {n}")
    cursor = api.get(
        f"/api/mitra/sessions/{other_session}/messages",
        params={"limit": 1},
        headers=chat.mitra.headers,
    ).json()["next_cursor"]
    send(api, chat, "mitra", "lagi", cmid="f2")
    foreign_cursor = api.get(
        chat.path("mitra"), params={"limit": 1}, headers=chat.mitra.headers
    ).json()["next_cursor"]

    answers = {
        "up_to": api.post(
            chat.path("mitra", "read"), json={"up_to": foreign["id"]}, headers=chat.mitra.headers
        ),
        "since": api.get(
            chat.path("mitra"), params={"since": foreign["id"]}, headers=chat.mitra.headers
        ),
        "cursor": api.get(
            f"/api/mitra/sessions/{other_session}/messages",
            params={"cursor": foreign_cursor},
            headers=chat.mitra.headers,
        ),
        "forged": api.get(
            chat.path("mitra"), params={"cursor": "bm90LWEtY3Vyc29y"}, headers=chat.mitra.headers
        ),
    }

    assert cursor is None  # one message in the other session: no next page
    for field, answer in answers.items():
        assert answer.status_code == 400, field
        assert answer.json()["error"]["code"] == "invalid_request"


def test_ended_session_refuses_sends_and_keeps_history(api, chat, database):
    send(api, chat, "client", "sebelum selesai", cmid="e1")
    assert (
        api.post(chat.path("client", "end"), json={}, headers=chat.client.headers).status_code
        == 200
    )

    late = send(api, chat, "mitra", "terlambat")
    typing = api.post(chat.path("client", "typing"), headers=chat.client.headers)
    retry = send(api, chat, "client", "sebelum selesai", cmid="e1")
    history = api.get(chat.path("mitra"), headers=chat.mitra.headers)

    assert (late.status_code, late.json()["error"]["code"]) == (409, "session_ended")
    assert (typing.status_code, typing.json()["error"]["code"]) == (409, "session_ended")
    assert retry.status_code == 200  # the retry of a stored message still answers it
    assert [m["text"] for m in history.json()["items"]] == ["sebelum selesai"]
    assert _stored(database, chat.session_id) == 1


def test_suspended_sender_is_403_and_stores_nothing(api, chat, database):
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE clients SET status = 'suspended' WHERE id = :id"),
            {"id": chat.client.id},
        )

    response = send(api, chat, "client", "masih bisa?")

    assert (response.status_code, response.json()["error"]["code"]) == (403, "suspended")
    assert _stored(database, chat.session_id) == 0


def test_session_message_limit_is_a_setting(api, chat, database):
    from shared.domain import settings

    original = settings.current()
    settings.save(original.model_copy(update={"chat_max_messages_per_session": 10}), None)
    try:
        statuses = [send(api, chat, "client", f"m{n}").status_code for n in range(11)]
    finally:
        settings.save(original, None)

    assert statuses == [201] * 10 + [409]
    assert _stored(database, chat.session_id) == 10


def test_a_sender_over_its_rate_gets_429_and_stores_nothing(api, chat, database):
    from shared import ratelimit
    from shared.config import get_config
    from shared.errors import RateLimited

    # Use up the mitra's allowance in the shared limiter (as a burst from its other
    # devices would), then send over HTTP.
    with pytest.raises(RateLimited):
        for _ in range(100_000):
            ratelimit.hit("chat-send", f"mitra:{chat.mitra.id}", get_config().chat_send_rate)

    response = send(api, chat, "mitra", "terlalu cepat")

    assert (response.status_code, response.json()["error"]["code"]) == (429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert _stored(database, chat.session_id) == 0


def test_typing_over_its_rate_is_429(api, chat):
    from shared import ratelimit
    from shared.config import get_config
    from shared.errors import RateLimited

    with pytest.raises(RateLimited):
        for _ in range(1000):
            ratelimit.hit("chat-typing", f"client:{chat.client.id}", get_config().chat_typing_rate)

    response = api.post(chat.path("client", "typing"), headers=chat.client.headers)

    assert (response.status_code, response.json()["error"]["code"]) == (429, "rate_limited")


def test_client_message_id_is_shown_to_its_sender_only(api, chat):
    send(api, chat, "client", "punyaku", cmid="mine-1")

    own = api.get(chat.path("client"), headers=chat.client.headers).json()["items"][0]
    other = api.get(chat.path("mitra"), headers=chat.mitra.headers).json()["items"][0]

    assert (own["client_message_id"], other["client_message_id"]) == ("mine-1", None)
    assert own["id"] == other["id"] and other["text"] == "punyaku"
