"""Domain events (`session.started`, `pairing.expired`, …) on a Pub/Sub topic, for consumers
that are not app streams (the coming push-notification phase).

`EVENTS_TOPIC` set → google-cloud-pubsub (which honours `PUBSUB_EMULATOR_HOST`, so the
emulator is used where it runs); unset → a publisher that only logs. The SDK is imported on
first use, not at cold start. A failed publish is logged and never fails the request: the
system of record is PostgreSQL, and these events are notifications about it.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.config import get_config
from shared.log import get_logger, log_event

logger = get_logger("halo.domain_events")

PUBLISH_TIMEOUT_S = 5.0


class Publisher(Protocol):
    def publish(self, event_type: str, data: dict[str, Any]) -> None: ...


def message(event_type: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": uuid.uuid4().hex,
            "type": event_type,
            "at": datetime.now(UTC).isoformat(),
            "data": data,
        },
        default=str,
    ).encode()


class LoggingPublisher:
    """No topic configured: the event is only logged (ids only, never personal data)."""

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        log_event(
            logger,
            20,
            "domain event (no topic configured)",
            event_type=event_type,
            **{k: v for k, v in data.items() if k.endswith("_id")},
        )


class PubSubPublisher:
    def __init__(self, topic: str, project: str | None) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # heavy: first publish only

        self._client = pubsub_v1.PublisherClient()
        self._topic = (
            topic
            if topic.startswith("projects/")
            else (self._client.topic_path(project or "", topic))
        )
        if os.environ.get("PUBSUB_EMULATOR_HOST"):
            self._ensure_topic()

    def _ensure_topic(self) -> None:
        # The emulator starts empty; in GCP, Terraform creates the topic.
        from google.api_core.exceptions import AlreadyExists

        with contextlib.suppress(AlreadyExists):
            self._client.create_topic(name=self._topic)

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        future = self._client.publish(self._topic, message(event_type, data), type=event_type)
        # Cloud Run gives no CPU after the response: wait for the send before returning.
        future.result(timeout=PUBLISH_TIMEOUT_S)


_lock = threading.Lock()
_publisher: Publisher | None = None


def publisher() -> Publisher:
    global _publisher
    if _publisher is None:
        with _lock:
            if _publisher is None:
                config = get_config()
                _publisher = (
                    PubSubPublisher(config.events_topic, config.google_cloud_project)
                    if config.events_topic
                    else LoggingPublisher()
                )
    return _publisher


def reset() -> None:
    global _publisher
    with _lock:
        _publisher = None


def emit(event_type: str, data: dict[str, Any]) -> None:
    """Publish a domain event; a failure is logged, never raised."""
    try:
        publisher().publish(event_type, data)
    except Exception as exc:  # a notification must not fail the request
        log_event(
            logger,
            40,
            "domain event not published",
            event_type=event_type,
            error=type(exc).__name__,
        )
