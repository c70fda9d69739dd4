"""The events function's two ways of writing a frame, each on a real uvicorn server in this
process (so the test can see which way its streams took): with httptools (what Cloud Run
runs, through functions-framework's uvicorn worker) the hub writes frames straight into an
idle stream's connection (shared/web/asgi.py `_Wire`, which leans on uvicorn's request cycle
— this test is what fails if a uvicorn upgrade moves it); with any other HTTP implementation
(h11 here) there is no direct writer and every frame goes through the stream's task. Both
deliver the same frames in order, keep-alives included, and notice the client leaving."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from functions_framework.aio import create_asgi_app

from shared import events
from shared.web import event_hub
from tests.pairing.test_async_streams import _open, _until, run

SOURCE = Path(__file__).resolve().parents[2] / "functions" / "events" / "main.py"


class _Server:
    """The events function's ASGI app on uvicorn, in a thread of this process."""

    def __init__(self, http: str) -> None:
        config = uvicorn.Config(
            create_asgi_app(target="events", source=str(SOURCE)),
            host="127.0.0.1",
            port=0,
            http=http,
            loop="asyncio",
            lifespan="off",
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        (sock,) = self.server.servers[0].sockets
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def _served() -> list[event_hub.AsyncStream]:
    hub = event_hub._hub
    return list(hub.served) if hub is not None else []


async def _served_stream(recipient_id: str) -> event_hub.AsyncStream:
    """The recipient's stream, once the hub serves it (just after its first frame left)."""
    deadline = time.monotonic() + 5
    while True:
        found = [s for s in _served() if s.recipient_id == recipient_id]
        if found:
            (stream,) = found
            return stream
        assert time.monotonic() < deadline, "the hub never served the stream"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(("http", "direct"), [("httptools", True), ("h11", False)])
def test_frames_reach_the_stream_with_and_without_a_direct_writer(
    stack, online_mitras, http: str, direct: bool
) -> None:
    (mitra,) = online_mitras(1)

    with _Server(http) as url:

        async def scenario() -> tuple[list[dict], bool, bool]:  # type: ignore[type-arg]
            opening = _open(url, "/api/mitra/events", mitra.headers)
            reader, writer = await asyncio.wait_for(opening, 10)
            await asyncio.wait_for(_until(reader, "snapshot"), 10)
            stream = await _served_stream(str(mitra.id))
            has_writer = stream.writer is not None
            frames = []
            for n in range(3):
                await asyncio.to_thread(events.publish, "mitra", mitra.id, "test.frame", {"n": n})
                frames.append(await asyncio.wait_for(_until(reader, "test.frame"), 10))
            # A keep-alive comment comes (SSE_KEEPALIVE_S is 1 s in the tests) on either path.
            keepalive = await asyncio.wait_for(reader.readuntil(b":"), 5)
            writer.close()
            deadline = time.monotonic() + 5
            while stream in _served() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            return frames, has_writer, stream not in _served() and bool(keepalive)

        frames, has_writer, left = run(scenario())

    assert has_writer is direct
    assert [frame["n"] for frame in frames] == [0, 1, 2]
    assert left, "the hub still serves a stream whose client left"
