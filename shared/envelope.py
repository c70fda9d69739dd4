"""The one event envelope, for every event we send anywhere: app streams (Valkey pub/sub →
SSE, shared.events), the control center's dashboard stream, and domain events on Pub/Sub
(shared.domain_events). `{"id", "type", "at", "data"}`: a fresh id (an SSE frame's `id:`, a
push's idempotency anchor), the type, when it was built (UTC, ISO 8601), the payload. The
AsyncAPI documents describe exactly this shape (shared/schemas/events.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any


def build(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "type": event_type,
        "at": datetime.now(UTC).isoformat(),
        "data": data,
    }


def envelope(event_type: str, data: dict[str, Any]) -> str:
    """The envelope as JSON; values JSON lacks (UUIDs, datetimes) are written as text."""
    return json.dumps(build(event_type, data), default=str)
