"""Chat test helpers: a session between a fresh client and mitra, sends over real HTTP, and
event streams read in a thread that a test can cut to force a reconnect."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.push.conftest import fcm, register_device  # noqa: F401  (shared fixtures)
from tests.support.sessions import start_session
from tests.support.typed_frames import FrameCheck


@dataclass
class Chat:
    client: Any
    mitra: Any
    session_id: str

    def path(self, side: str, tail: str = "messages") -> str:
        return f"/api/{side}/sessions/{self.session_id}/{tail}"

    def user(self, side: str) -> Any:
        return self.client if side == "client" else self.mitra


@pytest.fixture
def chat(make_client, make_mitra) -> Chat:  # type: ignore[no-untyped-def]
    client = make_client("Klien Chat")
    mitra = make_mitra("Mitra Chat", max_customers=5)
    return Chat(client, mitra, str(start_session(client.id, mitra.id)))


def send(
    api: httpx.Client, chat: Chat, side: str, text: str, cmid: str | None = None
) -> httpx.Response:
    return api.post(
        chat.path(side),
        json={"client_message_id": cmid or uuid.uuid4().hex, "text": text},
        headers=chat.user(side).headers,
    )


@dataclass
class Stream:
    """An open SSE stream read in a thread; `cut()` drops the connection like a lost network."""

    frames: queue.Queue[Any] = field(default_factory=queue.Queue)
    ready: threading.Event = field(default_factory=threading.Event)
    http: httpx.Client | None = None
    status_code: int | None = None
    last_id: str | None = None
    invalid: list[str] = field(default_factory=list)

    def next_of(self, event_type: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event = self.frames.get(timeout=max(0.01, deadline - time.monotonic()))
            if event.event == event_type:
                return event

    def collect(self, event_type: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                event = self.frames.get(timeout=0.1)
                if event.event == event_type:
                    found.append(json.loads(event.data)["data"])
        return found

    def quiet(self, event_type: str, wait_s: float = 0.5) -> list[dict[str, Any]]:
        found = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                event = self.frames.get(timeout=0.05)
                if event.event == event_type:
                    found.append(json.loads(event.data)["data"])
        return found

    def cut(self) -> None:
        if self.http is not None:
            self.http.close()


@pytest.fixture
def open_stream(stack):  # type: ignore[no-untyped-def]
    """open_stream(side, user, last_event_id=None) → Stream, after its snapshot arrived."""
    streams: list[Stream] = []
    checks = {side: FrameCheck(stack.public_url, side) for side in ("client", "mitra")}

    def open_(side: str, user: Any, last_event_id: str | None = None) -> Stream:
        stream = Stream()
        stream.http = httpx.Client(base_url=stack.public_url, timeout=httpx.Timeout(30, read=60))
        streams.append(stream)
        headers = dict(user.headers)
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        snapshot = threading.Event()

        def run() -> None:
            assert stream.http is not None
            try:
                with connect_sse(stream.http, "GET", f"/api/{side}/events", headers=headers) as src:
                    stream.status_code = src.response.status_code
                    stream.ready.set()
                    for event in src.iter_sse():
                        if (problem := checks[side].problem(event)) is not None:
                            stream.invalid.append(problem)
                        if event.event == "snapshot":
                            snapshot.set()
                        if event.id:
                            stream.last_id = event.id
                        stream.frames.put(event)
            except (httpx.HTTPError, RuntimeError):
                pass
            finally:
                stream.ready.set()
                snapshot.set()

        threading.Thread(target=run, daemon=True).start()
        assert snapshot.wait(15), "no snapshot on the stream"
        return stream

    yield open_
    for stream in streams:
        stream.cut()
    # Every frame read, of every type, is one the AsyncAPI documents describe.
    assert [problem for stream in streams for problem in stream.invalid] == []
