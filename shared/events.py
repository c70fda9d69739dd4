"""Live events to the apps: published on Valkey pub/sub, one channel per recipient
(`events:mitra:<id>`, `events:client:<id>`). Each instance serving streams holds one
subscriber connection and fans messages out to its local streams (shared.web.sse).

Pub/sub is fire-and-forget: a stream that was not connected misses the message, which is
why every stream starts with a snapshot of current state.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from shared import valkey
from shared.envelope import build, envelope

Audience = Literal["mitra", "client", "admin"]


def channel(audience: Audience, recipient_id: Any) -> str:
    return f"events:{audience}:{recipient_id}"


def publish(audience: Audience, recipient_id: Any, event_type: str, data: dict[str, Any]) -> None:
    valkey.client().publish(channel(audience, recipient_id), envelope(event_type, data))


BROADCAST_CHANNEL = "events:broadcast"


def broadcast_to_available(
    audience: Audience,
    topic: str,
    event_type: str,
    data: dict[str, Any],
    *,
    available_key: str,
    fresh_after_ms: int,
    exclude: tuple[str, ...] = (),
) -> None:
    """One publish for an event meant for every recipient who is a member of the sorted set
    `available_key` with a score at or after `fresh_after_ms` when it arrives (e.g. an offer
    to every available mitra), except `exclude`. Each instance's hub asks Valkey once which
    of its own streams qualify and remembers whom it reached for `topic`, so the cost per
    event does not grow with the number of recipients (scale.md point 3)."""
    _broadcast(
        event_type,
        data,
        {
            "audience": audience,
            "kind": "available",
            "topic": topic,
            "available_key": available_key,
            "fresh_after_ms": fresh_after_ms,
            "exclude": list(exclude),
        },
    )


def broadcast_to_reached(
    audience: Audience,
    topic: str,
    event_type: str,
    data: dict[str, Any],
    *,
    skip_key: str | None = None,
    exclude: tuple[str, ...] = (),
) -> None:
    """One publish for an event meant for every recipient a hub reached for `topic` (by an
    earlier `broadcast_to_available`, or a stream snapshot listing it), except `exclude` and
    the members of the Valkey set `skip_key` (e.g. the mitras that declined). Each hub
    forgets the topic afterwards."""
    _broadcast(
        event_type,
        data,
        {
            "audience": audience,
            "kind": "reached",
            "topic": topic,
            "skip_key": skip_key,
            "exclude": list(exclude),
        },
    )


def _broadcast(event_type: str, data: dict[str, Any], to: dict[str, Any]) -> None:
    message = build(event_type, data)
    message["to"] = to
    valkey.client().publish(BROADCAST_CHANNEL, json.dumps(message, default=str))
