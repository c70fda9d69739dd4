"""Live events to the apps: published on Valkey pub/sub, one channel per recipient
(`events:mitra:<id>`, `events:client:<id>`). Each instance serving streams holds one
subscriber connection and fans messages out to its local streams (shared.web.sse).

Pub/sub is fire-and-forget: a stream that was not connected misses the message, which is
why every stream starts with a snapshot of current state.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from shared import valkey

Audience = Literal["mitra", "client", "admin"]


def channel(audience: Audience, recipient_id: Any) -> str:
    return f"events:{audience}:{recipient_id}"


def envelope(event_type: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": uuid.uuid4().hex,
            "type": event_type,
            "at": datetime.now(UTC).isoformat(),
            "data": data,
        },
        default=str,
    )


def publish(audience: Audience, recipient_id: Any, event_type: str, data: dict[str, Any]) -> None:
    valkey.client().publish(channel(audience, recipient_id), envelope(event_type, data))


BROADCAST_CHANNEL = "events:broadcast"


def broadcast(
    audience: Audience,
    members_key: str,
    event_type: str,
    data: dict[str, Any],
    *,
    exclude: tuple[str, ...] = (),
) -> None:
    """One publish for an event meant for every member of the Valkey set `members_key`
    (e.g. the mitras offered a request), except `exclude`. Each instance's hub delivers it
    to its own streams of those members, so the cost per event does not grow with the
    number of recipients (scale.md point 3)."""
    message = json.loads(envelope(event_type, data))
    message["to"] = {"audience": audience, "members_key": members_key, "exclude": list(exclude)}
    valkey.client().publish(BROADCAST_CHANNEL, json.dumps(message, default=str))
