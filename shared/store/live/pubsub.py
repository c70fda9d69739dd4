"""Publishing live events on the pub/sub channels of shared.events."""

from __future__ import annotations

from collections.abc import Iterable

from shared import valkey


def publish_all(messages: Iterable[tuple[str, str]]) -> None:
    """(channel, message) pairs, all in one round trip."""
    pipe = valkey.client().pipeline(transaction=False)
    for channel, message in messages:
        pipe.publish(channel, message)
    pipe.execute()
