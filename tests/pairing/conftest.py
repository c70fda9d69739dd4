"""Pairing test helpers: mitras put online the way presence does it (a fresh score in
`presence:heartbeats`, capacity in `presence:capacity`, membership of `presence:available`
recomputed by the real script), clients with credits, and event
streams read in a background thread so a test can wait for events with a deadline."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from httpx_sse import connect_sse

from shared import valkey
from shared.store.live import keys
from tests.support.presence import drop, resync
from tests.support.typed_frames import FrameCheck


def now_ms() -> int:
    return int(time.time() * 1000)


def put_online(mitra_id: str, *, capacity: int | None = None, heartbeat_ms: int | None = None):
    client = valkey.client()
    client.zadd(keys.HEARTBEATS, {mitra_id: heartbeat_ms or now_ms()})
    if capacity is not None:
        client.hset(keys.CAPACITY, mitra_id, capacity)
    resync(mitra_id)


def take_offline(*mitra_ids: str) -> None:
    drop(*mitra_ids)


@pytest.fixture
def online_mitras(make_mitra):  # type: ignore[no-untyped-def]
    """make(n, capacity=None) → n new mitras, online; all taken offline after the test, so
    no later test's blast reaches them."""
    made: list[str] = []

    def make(count: int = 1, capacity: int | None = None) -> list[Any]:
        mitras = [
            make_mitra(f"Mitra {len(made) + i}", max_customers=capacity) for i in range(count)
        ]
        for mitra in mitras:
            put_online(mitra.id, capacity=capacity)
            made.append(mitra.id)
        return mitras

    yield make
    take_offline(*made)


@pytest.fixture
def nobody_online():
    """Every mitra offline for the test (presence:heartbeats and presence:available
    emptied), restored afterwards."""
    client = valkey.client()
    saved = client.zrange(keys.HEARTBEATS, 0, -1, withscores=True)
    available = client.zrange(keys.AVAILABLE, 0, -1, withscores=True)
    client.delete(keys.HEARTBEATS, keys.AVAILABLE)
    yield
    if saved:
        client.zadd(keys.HEARTBEATS, {member: score for member, score in saved})
    if available:
        client.zadd(keys.AVAILABLE, {member: score for member, score in available})


def give_credits(database: sa.Engine, client_id: str, sessions: int) -> None:
    with database.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                " VALUES (:c, 'credit', 'purchase', :n, :ref)"
            ),
            {"c": client_id, "n": sessions, "ref": f"test-purchase:{uuid.uuid4()}"},
        )


def end_session(database: sa.Engine, session_id: str) -> None:
    """End a session the way the sessions function does, and give the mitra's unit back."""
    from shared.domain import settings
    from shared.store.live.capacity import release

    with database.begin() as connection:
        mitra_id = connection.execute(
            sa.text(
                "UPDATE sessions SET status = 'ended', ended_at = now(), ended_by = 'client'"
                " WHERE id = :id AND status = 'active' RETURNING mitra_id"
            ),
            {"id": session_id},
        ).scalar_one_or_none()
    if mitra_id is not None:
        release(mitra_id, settings.current().max_customers_per_mitra)


def make_overdue(database: sa.Engine, request_id: str) -> None:
    """Move a request's window into the past (in PostgreSQL and in its Valkey live state)."""
    from shared.store.live.keys import request as request_key

    with database.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE pairing_requests SET created_at = now() - interval '2 minutes',"
                " expires_at = now() - interval '1 second' WHERE id = :id"
            ),
            {"id": request_id},
        )
    key = request_key(request_id)
    if valkey.client().exists(key):
        valkey.client().hset(key, "expires_at", now_ms() - 1000)


@dataclass
class EventReader:
    """An open SSE stream, read in a thread; `next()` waits for the next event."""

    response_events: queue.Queue[Any] = field(default_factory=queue.Queue)
    status_code: int | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def next(self, timeout: float = 10.0) -> Any:
        return self.response_events.get(timeout=timeout)

    def next_of(self, event_type: str, timeout: float = 10.0) -> Any:
        """The next event of this type, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(timeout=max(0.01, deadline - time.monotonic()))
            if event.event == event_type:
                return event

    def drain(self, wait: float = 0.5) -> list[Any]:
        found = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                found.append(self.response_events.get(timeout=0.05))
        return found


@pytest.fixture
def open_stream(stack):  # type: ignore[no-untyped-def]
    """open_stream(path, headers) → EventReader; every stream is closed at test end."""
    clients: list[httpx.Client] = []
    readers: list[EventReader] = []
    checks = {side: FrameCheck(stack.public_url, side) for side in ("client", "mitra")}
    invalid: list[str] = []

    def open_(path: str, headers: dict[str, str]) -> EventReader:
        reader = EventReader()
        check = checks[path.split("/")[2]]
        http = httpx.Client(base_url=stack.public_url, timeout=httpx.Timeout(30, read=60))
        clients.append(http)
        readers.append(reader)

        def run() -> None:
            try:
                with connect_sse(http, "GET", path, headers=headers) as source:
                    reader.status_code = source.response.status_code
                    reader.ready.set()
                    if source.response.status_code != 200:
                        return
                    for event in source.iter_sse():
                        if (problem := check.problem(event)) is not None:
                            invalid.append(problem)
                        reader.response_events.put(event)
                        if reader.stop.is_set():
                            return
            except (httpx.HTTPError, RuntimeError):
                pass
            finally:
                reader.ready.set()

        threading.Thread(target=run, daemon=True).start()
        reader.ready.wait(15)
        return reader

    yield open_
    for reader in readers:
        reader.stop.set()
    for http in clients:
        http.close()
    # Every frame read, of every type, is one the AsyncAPI documents describe.
    assert invalid == []


@pytest.fixture
def client_with_credits(make_client, database):  # type: ignore[no-untyped-def]
    def make(credits: int = 0, name: str = "Klien Uji") -> Any:
        client = make_client(name)
        if credits:
            give_credits(database, client.id, credits)
        return client

    return make


@pytest.fixture
def pairing_request(api):  # type: ignore[no-untyped-def]
    def post(client: Any, key: str | None = None) -> httpx.Response:
        headers = dict(client.headers)
        if key:
            headers["Idempotency-Key"] = key
        return api.post("/api/client/pairing-requests", headers=headers)

    return post
