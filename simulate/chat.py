"""Chat in the simulation: what every actor sent and how each message reached the other
party — on its event stream, or by the catch-up read an app makes when it reconnects.

The invariant `chat_delivered_exactly_once` (simulate/invariants.py) holds when every
message the senders had stored (a 200/201 answer) reached the other party exactly once on
its stream or, if the stream missed it, by the catch-up read; when no stream delivered a
message twice; when nothing arrived that nobody sent; and when PostgreSQL holds exactly
the messages the senders were told were stored.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class ChatLedger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (session, sender)
    by_stream: Counter[str] = field(default_factory=Counter)
    fetched: set[str] = field(default_factory=set)
    strangers: set[str] = field(default_factory=set)  # arrived, but never answered as sent
    refused: Counter[int] = field(default_factory=Counter)

    def stored(self, message: dict[str, object]) -> None:
        with self.lock:
            self.sent[str(message["id"])] = (str(message["session_id"]), str(message["sender"]))

    def on_stream(self, message: dict[str, object], me: str) -> None:
        if message.get("sender") == me:
            return  # my own message echoed to my other devices
        with self.lock:
            self.by_stream[str(message["id"])] += 1

    def on_fetch(self, message: dict[str, object], me: str) -> None:
        if message.get("sender") == me:
            return
        with self.lock:
            message_id = str(message["id"])
            if message_id not in self.by_stream:
                self.fetched.add(message_id)

    def summary(self) -> dict[str, int]:
        with self.lock:
            return {
                "chat_sent": len(self.sent),
                "chat_by_stream": sum(1 for n in self.by_stream.values() if n >= 1),
                "chat_by_catch_up": len(self.fetched),
            }


def send(
    http: httpx.Client, ledger: ChatLedger, side: str, headers: dict[str, str], session_id: str
) -> int:
    """One message, retried once with the same client_message_id on a transport error, as
    an app does; the status of the last answer."""
    body = {"client_message_id": uuid.uuid4().hex, "text": "Aku dengar kamu. Ceritakan lagi."}
    path = f"/api/{side}/sessions/{session_id}/messages"
    for attempt in range(2):
        try:
            answer = http.post(path, json=body, headers=headers)
        except httpx.TransportError:
            if attempt:
                raise
            continue
        if answer.status_code in (200, 201):
            ledger.stored(answer.json())
        else:
            with ledger.lock:
                ledger.refused[answer.status_code] += 1
        return answer.status_code
    return 0


def catch_up(
    http: httpx.Client, ledger: ChatLedger, side: str, headers: dict[str, str], session_id: str
) -> None:
    """The app's read after a reconnect: the whole history, page by page."""
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = http.get(
            f"/api/{side}/sessions/{session_id}/messages", params=params, headers=headers
        )
        if page.status_code != 200:
            return  # rerouted away (404): that history is no longer this mitra's
        body = page.json()
        for message in body["items"]:
            ledger.on_fetch(message, side)
        cursor = body["next_cursor"]
        if cursor is None:
            return
