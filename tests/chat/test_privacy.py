"""Chat privacy over real HTTP: only participants, text encrypted at rest (a scan of every
table finds no plaintext), keys rotate, reroute continuity per setting, neutral pushes."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from shared import db
from shared.config import get_config
from shared.domain import chat as chat_domain
from shared.domain import settings
from shared.store import sessions as session_store
from tests.chat.conftest import send
from tests.conftest import CHAT_KEY_ID, CHAT_OLD_KEY_ID
from tests.push.conftest import pushes


def test_no_row_in_postgresql_contains_the_plaintext(api, chat, database):
    marker = f"rahasia-{uuid.uuid4().hex}"
    assert send(api, chat, "client", f"Aku merasa {marker} sekali").status_code == 201
    assert send(api, chat, "mitra", f"Ceritakan {marker}").status_code == 201
    needles = [marker, marker.encode().hex()]

    with database.connect() as connection:
        tables = connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        hits = {
            table: connection.execute(
                sa.text(
                    f'SELECT count(*) FROM "{table}" t'  # noqa: S608 (names from pg_tables)
                    " WHERE position(:a in t::text) > 0 OR position(:b in t::text) > 0"
                ),
                {"a": needles[0], "b": needles[1]},
            ).scalar_one()
            for table in list(tables)
        }
        stored = connection.execute(
            sa.text("SELECT count(*) FROM chat_messages WHERE session_id = :s"),
            {"s": chat.session_id},
        ).scalar_one()

    assert stored == 2
    assert {table: n for table, n in hits.items() if n} == {}
    # …while the participants read it back.
    texts = [
        m["text"] for m in api.get(chat.path("client"), headers=chat.client.headers).json()["items"]
    ]
    assert texts == [f"Ceritakan {marker}", f"Aku merasa {marker} sekali"]


@pytest.fixture
def old_key_active():
    """This test process encrypts under the older key, as an instance did before rotation."""
    os.environ["CHAT_ACTIVE_KEY_ID"] = CHAT_OLD_KEY_ID
    get_config.cache_clear()
    yield
    os.environ["CHAT_ACTIVE_KEY_ID"] = CHAT_KEY_ID
    get_config.cache_clear()


def test_key_rotation_leaves_old_messages_readable(api, chat, database, old_key_active):
    before = chat_domain.send(
        "client", uuid.UUID(chat.client.id), uuid.UUID(chat.session_id), "c1", "sebelum rotasi"
    )
    os.environ["CHAT_ACTIVE_KEY_ID"] = CHAT_KEY_ID
    get_config.cache_clear()

    after = send(api, chat, "mitra", "sesudah rotasi")

    assert before.created and after.status_code == 201
    with database.connect() as connection:
        keys = dict(
            connection.execute(
                sa.text("SELECT id::text, key_id FROM chat_messages WHERE session_id = :s"),
                {"s": chat.session_id},
            ).all()
        )
    assert keys == {str(before.message.id): CHAT_OLD_KEY_ID, after.json()["id"]: CHAT_KEY_ID}
    items = api.get(chat.path("mitra"), headers=chat.mitra.headers).json()["items"]
    assert [m["text"] for m in items] == ["sesudah rotasi", "sebelum rotasi"]


def test_a_third_party_gets_404_everywhere(api, chat, make_client, make_mitra):
    message = send(api, chat, "client", "hanya untuk kita").json()
    stranger_client, stranger_mitra = make_client("Orang Lain"), make_mitra("Mitra Lain")

    for side, user in (("client", stranger_client), ("mitra", stranger_mitra)):
        answers = [
            api.post(
                chat.path(side),
                json={"client_message_id": "x1", "text": "hai"},
                headers=user.headers,
            ),
            api.get(chat.path(side), headers=user.headers),
            api.get(chat.path(side), params={"since": message["id"]}, headers=user.headers),
            api.post(chat.path(side, "read"), json={"up_to": message["id"]}, headers=user.headers),
            api.post(chat.path(side, "typing"), headers=user.headers),
        ]
        assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
            (404, "not_found")
        ] * 5
    unknown = api.get(f"/api/client/sessions/{uuid.uuid4()}/messages", headers=chat.client.headers)
    assert unknown.status_code == 404


def _reroute(session_id: str, to_mitra_id: str) -> None:
    with db.transaction() as connection:
        assert session_store.lock_active(connection, session_id) is not None
        session_store.reassign(
            connection, uuid.UUID(session_id), to_mitra_id=to_mitra_id, reason="rerouted"
        )


@pytest.fixture
def reroute_history():
    original = settings.current()

    def apply(value: str) -> None:
        settings.save(original.model_copy(update={"chat_history_after_reroute": value}), None)

    yield apply
    settings.save(original, None)


@pytest.mark.parametrize("visibility", ["visible", "hidden"])
def test_rerouted_session_shows_earlier_messages_per_setting(
    api, chat, make_mitra, reroute_history, visibility
):
    reroute_history(visibility)
    send(api, chat, "client", "untuk mitra pertama")
    send(api, chat, "mitra", "jawaban mitra pertama")
    new_mitra = make_mitra("Mitra Kedua", max_customers=5)
    _reroute(chat.session_id, new_mitra.id)
    new_path = f"/api/mitra/sessions/{chat.session_id}/messages"
    assert (
        api.post(
            new_path,
            json={"client_message_id": "n1", "text": "halo, aku lanjutkan"},
            headers=new_mitra.headers,
        ).status_code
        == 201
    )

    seen = [m["text"] for m in api.get(new_path, headers=new_mitra.headers).json()["items"]]
    client_seen = [
        m["text"] for m in api.get(chat.path("client"), headers=chat.client.headers).json()["items"]
    ]
    old_mitra = api.get(chat.path("mitra"), headers=chat.mitra.headers)

    everything = ["halo, aku lanjutkan", "jawaban mitra pertama", "untuk mitra pertama"]
    assert seen == (everything if visibility == "visible" else everything[:1])
    assert client_seen == everything
    assert old_mitra.status_code == 404


def test_the_other_side_gets_a_neutral_collapsed_push_when_its_app_is_closed(
    api, chat, fcm, register_device
):
    phone = register_device(chat.mitra, "mitra", locale="en-US")
    marker = f"isi-{uuid.uuid4().hex[:8]}"

    send(api, chat, "client", f"pertama {marker}")
    send(api, chat, "client", f"kedua {marker}")

    received = pushes(fcm, phone)
    assert len(received) == 1  # one per chat per push window; the notification collapses
    shown = received[0]
    assert shown["notification"] == {
        "title": "Halo Bestie",
        "body": "You have a new message. Open the app.",
    }
    assert (
        shown["data"]["type"] == "chat.message" and shown["data"]["session_id"] == chat.session_id
    )
    assert shown["android"]["collapse_key"] == f"chat-{chat.session_id}"
    assert marker not in str(shown) and "Klien Chat" not in str(shown)


def test_no_push_while_the_app_has_its_stream_open(api, chat, fcm, register_device, open_stream):
    phone = register_device(chat.client, "client")
    open_stream("client", chat.client)

    send(api, chat, "mitra", "kamu sedang online")

    assert pushes(fcm, phone, at_least=0, settle_s=1.5, timeout_s=2) == []


def test_erasing_a_client_removes_the_text_of_its_sessions_and_keeps_their_shape(
    api, chat, database
):
    from shared.store.chat_messages import erase_client_messages

    send(api, chat, "client", "tentang aku")
    send(api, chat, "mitra", "tentang kamu")

    with db.transaction() as connection:
        erased = erase_client_messages(connection, chat.client.id)
    with db.transaction() as connection:
        again = erase_client_messages(connection, chat.client.id)

    assert (erased, again) == (2, 0)
    with database.connect() as connection:
        left = connection.execute(
            sa.text(
                "SELECT count(*) FROM chat_messages WHERE session_id = :s AND ciphertext IS NULL"
                " AND nonce IS NULL AND key_id IS NULL AND erased_at IS NOT NULL"
            ),
            {"s": chat.session_id},
        ).scalar_one()
    assert left == 2
    items = api.get(chat.path("mitra"), headers=chat.mitra.headers).json()["items"]
    assert [(m["sender"], m["text"]) for m in items] == [("mitra", None), ("client", None)]


def test_retention_deletes_only_messages_older_than_the_cutoff_in_batches(api, chat, database):
    from datetime import UTC, datetime, timedelta

    from shared.store.chat_messages import delete_messages_older_than

    for n in range(3):
        send(api, chat, "client", f"lama {n}")
    send(api, chat, "mitra", "baru")
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE chat_messages SET sent_at = now() - interval '400 days'"
                " WHERE session_id = :s AND sender = 'client'"
            ),
            {"s": chat.session_id},
        )
    cutoff = datetime.now(UTC) - timedelta(days=365)

    with db.transaction() as connection:
        first = delete_messages_older_than(connection, cutoff, 2)
    with db.transaction() as connection:
        second = delete_messages_older_than(connection, cutoff, 2)

    assert (first, second) == (2, 1)  # no other test leaves messages a year old
    items = api.get(chat.path("client"), headers=chat.client.headers).json()["items"]
    assert [m["text"] for m in items] == ["baru"]
