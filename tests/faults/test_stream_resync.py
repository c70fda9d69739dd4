"""Valkey restarted under an open event stream: the events instance's hub re-subscribes and
the stream sends a fresh snapshot (what was published meanwhile is lost), then live events
again."""

from __future__ import annotations

import asyncio

from shared import events
from tests.faults.conftest import valkey_answers, wait_until
from tests.pairing.test_async_streams import _open, _until, run


def test_an_open_stream_resyncs_after_valkey_restarts(stack, paying_client, healthy):
    client = paying_client()
    url = stack.servers["events"].url

    async def scenario() -> dict:  # type: ignore[type-arg]
        reader, writer = await _open(url, "/api/client/events", client.headers)
        try:
            await asyncio.wait_for(_until(reader, "snapshot"), 15)
            await asyncio.to_thread(stack.valkey.restart)
            await asyncio.to_thread(wait_until, lambda: valkey_answers(stack))
            resynced = await asyncio.wait_for(_until(reader, "snapshot"), 30)
            events.publish("client", client.id, "test.after_restart", {"n": 1})
            after = await asyncio.wait_for(_until(reader, "test.after_restart"), 15)
            return {"resynced": resynced, "after": after}
        finally:
            writer.close()

    seen = run(scenario())

    assert seen["resynced"] == {"request": None, "session": None}
    assert seen["after"] == {"n": 1}
