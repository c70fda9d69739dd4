"""The events function's asyncio server, read directly (not through the gateway): many
streams of one instance each get a broadcast, and a reader that stops reading holds up no
other stream."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa

from shared import events

FRAME = re.compile(rb"^event: (\S+)\ndata: (.*)$", re.MULTILINE)
STREAMS = 40
SUSPEND_MITRA = "UPDATE mitras SET status = 'suspended' WHERE id = :id"
SUSPEND_CLIENT = "UPDATE clients SET status = 'suspended' WHERE id = :id"
T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a thread of its own: a test of the session may have left an event
    loop running on this one (a browser harness)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            result.append(asyncio.run(scenario))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _open(url: str, path: str, headers: dict[str, str], rcvbuf: int | None = None):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    sock = None
    if rcvbuf is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.connect((parts.hostname, parts.port))
        sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=sock, limit=rcvbuf)
    else:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{lines}\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
    assert head.startswith(b"HTTP/1.1 200"), head
    return reader, writer


async def _until(reader: asyncio.StreamReader, kind: str, request_id: str | None = None) -> dict:  # type: ignore[type-arg]
    """The data of the next `kind` frame (for `request_id`, when given)."""
    buffer = b""
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            raise AssertionError(f"the stream ended before {kind}")
        frames = (buffer + chunk).split(b"\n\n")
        buffer = frames.pop()
        for frame in frames:
            found = FRAME.search(frame)
            if found is None or found.group(1).decode() != kind:
                continue
            data = json.loads(found.group(2))["data"]
            if request_id is None or data.get("request_id") == request_id:
                return data  # type: ignore[no-any-return]


def test_every_stream_of_an_instance_gets_the_broadcast_and_its_close(
    stack, online_mitras, client_with_credits, pairing_request, api
):
    (mitra,) = online_mitras(1)
    client = client_with_credits()
    url = stack.servers["events"].url

    async def scenario() -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
        streams = await asyncio.gather(
            *(_open(url, "/api/mitra/events", mitra.headers) for _ in range(STREAMS))
        )
        try:
            await asyncio.gather(*(_until(reader, "snapshot") for reader, _ in streams))
            response = await asyncio.to_thread(pairing_request, client)
            request_id = response.json()["id"]
            offers = await asyncio.wait_for(
                asyncio.gather(
                    *(_until(reader, "pairing.offer", request_id) for reader, _ in streams)
                ),
                30,
            )
            await asyncio.to_thread(
                api.delete, f"/api/client/pairing-requests/{request_id}", headers=client.headers
            )
            closes = await asyncio.wait_for(
                asyncio.gather(
                    *(_until(reader, "pairing.offer_closed", request_id) for reader, _ in streams)
                ),
                30,
            )
            return offers, closes
        finally:
            for _, writer in streams:
                writer.close()

    offers, closes = run(scenario())

    assert len(offers) == len(closes) == STREAMS
    assert len({offer["request_id"] for offer in offers}) == 1
    assert {close["reason"] for close in closes} == {"cancelled"}


def test_a_reader_that_stops_reading_holds_up_no_other_stream(stack, client_with_credits):
    stuck, listening = client_with_credits(), client_with_credits()
    url = stack.servers["events"].url

    async def scenario() -> dict:  # type: ignore[type-arg]
        reader, other = await _open(url, "/api/client/events", listening.headers)
        _stalled, writer = await _open(url, "/api/client/events", stuck.headers, rcvbuf=4096)
        try:
            await _until(reader, "snapshot")
            # Far more than the socket buffers hold: the server's writes to this stream
            # stall (and its queue overflows) while it never reads.
            filler = "x" * 8000
            for index in range(300):
                events.publish("client", stuck.id, "test.filler", {"n": index, "pad": filler})
            await asyncio.sleep(0.5)
            events.publish("client", listening.id, "test.after", {"n": 1})
            return await asyncio.wait_for(_until(reader, "test.after"), 15)
        finally:
            writer.close()
            other.close()

    assert run(scenario()) == {"n": 1}


async def _frames_for(reader: asyncio.StreamReader, seconds: float) -> tuple[list[str], bool]:
    """The event names (and keep-alive comments, as ":") read for `seconds`, and whether
    the stream ended meanwhile."""
    names: list[str] = []
    buffer = b""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except TimeoutError:
            break
        if not chunk:
            return names, True
        frames = (buffer + chunk).split(b"\n\n")
        buffer = frames.pop()
        for frame in frames:
            found = FRAME.search(frame)
            if found is not None:
                names.append(found.group(1).decode())
            elif b": keep-alive" in frame:
                names.append(":")
    return names, False


def test_rechecks_run_together_yet_end_only_the_streams_whose_caller_lost_the_right(
    stack, database, make_mitra, make_client
):
    """The hub re-checks every due stream of the instance together (one read per table);
    each stream still gets its own verdict."""
    kept = [make_mitra() for _ in range(3)] + [make_client()]
    lost = [make_mitra(), make_client()]
    url = stack.servers["events"].url

    def path(user: Any) -> str:
        return "/api/mitra/events" if user in kept[:3] or user is lost[0] else "/api/client/events"

    async def scenario() -> tuple[list[tuple[list[str], bool]], list[dict]]:  # type: ignore[type-arg]
        streams = [await _open(url, path(user), user.headers) for user in kept + lost]
        try:
            await asyncio.gather(*(_until(reader, "snapshot") for reader, _ in streams))
            # As an operator's suspension leaves the rows (tests/browser/test_stream_recheck.py
            # goes through the admin API).
            with database.begin() as connection:
                for user, update in ((lost[0], SUSPEND_MITRA), (lost[1], SUSPEND_CLIENT)):
                    connection.execute(sa.text(update), {"id": user.id})
            closed = await asyncio.wait_for(
                asyncio.gather(
                    *(_until(reader, "stream.closed") for reader, _ in streams[len(kept) :])
                ),
                15,
            )
            # Three re-check intervals (STREAM_RECHECK_S is 1 s in the test stack).
            still = await asyncio.gather(
                *(_frames_for(reader, 3.5) for reader, _ in streams[: len(kept)])
            )
            return still, closed
        finally:
            for _, writer in streams:
                writer.close()

    still, closed = run(scenario())

    assert [data for data in closed] == [{"reason": "suspended"}] * len(lost)
    for names, ended in still:
        assert not ended
        assert "stream.closed" not in names
        assert ":" in names  # keep-alives (SSE_KEEPALIVE_S is 1 s): the stream is served
