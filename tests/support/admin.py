"""Helpers for the control-center part-2 tests (dashboard, sessions, online logs, orphans):
presence set up as presence itself does it, event streams read in a background thread, and
scripted rows for days no other test touches."""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import sqlalchemy as sa
from httpx_sse import connect_sse

from shared import valkey
from shared.store.live import keys
from tests.support.presence import resync


def go_online(api: httpx.Client, mitra: Any) -> None:
    response = api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers)
    assert response.status_code == 200, response.text


def go_offline(api: httpx.Client, mitra: Any) -> None:
    response = api.put("/api/mitra/presence", json={"status": "offline"}, headers=mitra.headers)
    assert response.status_code == 200, response.text


def load_of(mitra_id: str) -> int:
    return int(valkey.client().hget(keys.LOAD, mitra_id) or 0)


@contextlib.contextmanager
def only_these_online() -> Iterator[None]:
    """Every other mitra out of the heartbeat set for the block (restored afterwards), so
    live figures are exact whatever earlier tests left online."""
    client = valkey.client()
    saved = client.zrange(keys.HEARTBEATS, 0, -1, withscores=True)
    available = client.zrange(keys.AVAILABLE, 0, -1, withscores=True)
    client.delete(keys.HEARTBEATS, keys.AVAILABLE)
    try:
        yield
    finally:
        client.delete(keys.HEARTBEATS, keys.AVAILABLE)
        if saved:
            client.zadd(keys.HEARTBEATS, {member: score for member, score in saved})
        if available:
            client.zadd(keys.AVAILABLE, {member: score for member, score in available})


def place(mitra_id: str, *, beat_ms: int, capacity: int, load: int) -> None:
    """A mitra in Valkey exactly as presence and pairing leave it."""
    client = valkey.client()
    client.zadd(keys.HEARTBEATS, {mitra_id: beat_ms})
    client.hset(keys.CAPACITY, mitra_id, capacity)
    if load:
        client.hset(keys.LOAD, mitra_id, load)
    else:
        client.hdel(keys.LOAD, mitra_id)
    resync(mitra_id)


def insert_client(database: sa.Engine, name: str = "Klien Skrip") -> str:
    with database.begin() as connection:
        return str(
            connection.execute(
                sa.text(
                    "INSERT INTO clients (firebase_uid, display_name, sign_in_provider)"
                    " VALUES (:uid, :name, 'anonymous') RETURNING id"
                ),
                {"uid": f"scripted-{secrets.token_hex(8)}", "name": name},
            ).scalar_one()
        )


def insert_mitra(database: sa.Engine, name: str = "Mitra Skrip") -> str:
    with database.begin() as connection:
        return str(
            connection.execute(
                sa.text("INSERT INTO mitras (name, phone) VALUES (:name, :phone) RETURNING id"),
                {
                    "name": name,
                    "phone": "+62899" + "".join(secrets.choice("0123456789") for _ in range(8)),
                },
            ).scalar_one()
        )


class Stream:
    """An SSE stream read in a thread; `next()` waits for the next event."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[Any] = queue.Queue()
        self.status_code: int | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(30, read=60))
        threading.Thread(target=self._run, args=(path, headers), daemon=True).start()
        self._ready.wait(15)

    def _run(self, path: str, headers: dict[str, str]) -> None:
        try:
            with connect_sse(self._http, "GET", path, headers=headers) as source:
                self.status_code = source.response.status_code
                self._ready.set()
                if self.status_code != 200:
                    return
                for event in source.iter_sse():
                    self.events.put((time.monotonic(), event))
                    if self._stop.is_set():
                        return
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self._ready.set()

    def next(self, timeout: float = 10.0) -> tuple[float, Any]:
        """(monotonic arrival time, event)."""
        return self.events.get(timeout=timeout)

    def next_of(self, event_type: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            _, event = self.next(timeout=max(0.01, deadline - time.monotonic()))
            if event.event == event_type:
                return event

    def close(self) -> None:
        self._stop.set()
        self._http.close()
