"""The sweeper's trigger: Cloud Scheduler publishes to Pub/Sub every minute and a push
subscription delivers the message here (functions-framework presents it as a CloudEvent).
The message's content does not matter; a malformed delivery is logged and acknowledged (a
retry would be just as malformed, and the next tick comes within a minute)."""

from __future__ import annotations

from typing import Any

from shared.domain import sweeper
from shared.log import get_logger, log_event

PUBSUB_MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
logger = get_logger("halo.sweeper")


def on_tick(event: Any) -> None:
    problem = _envelope_problem(event)
    if problem:
        log_event(logger, 30, "ignored a malformed sweep trigger", problem=problem)
        return
    sweeper.run()


def _envelope_problem(event: Any) -> str | None:
    try:
        event_type = event["type"]
        data = event.get_data()
    except Exception:
        return "not a CloudEvent"
    if event_type != PUBSUB_MESSAGE_PUBLISHED:
        return f"unexpected event type {str(event_type)[:100]!r}"
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        return "data is not a Pub/Sub message envelope"
    return None
