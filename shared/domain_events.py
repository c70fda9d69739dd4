"""Domain events (`session.started`, `pairing.expired`, …) on a Pub/Sub topic, for consumers
that are not app streams (the coming push-notification phase).

`EVENTS_TOPIC` set → google-cloud-pubsub (which honours `PUBSUB_EMULATOR_HOST`, so the
emulator is used where it runs); else `EVENTS_LOCAL_ENDPOINT` set (local stack, tests) →
Pub/Sub-shaped CloudEvents POSTed to the notifier from background threads; neither → a
publisher that only logs. The SDK is imported on
first use, not at cold start. A failed publish is logged and never fails the request: the
system of record is PostgreSQL, and these events are notifications about it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.config import get_config
from shared.envelope import envelope
from shared.log import get_logger, log_event

logger = get_logger("halo.domain_events")

PUBLISH_TIMEOUT_S = 5.0


class Publisher(Protocol):
    def publish(self, event_type: str, data: dict[str, Any]) -> None: ...


def message(event_type: str, data: dict[str, Any]) -> bytes:
    """One Pub/Sub message's data: the shared envelope (shared/envelope.py), as bytes."""
    return envelope(event_type, data).encode()


class LoggingPublisher:
    """No topic configured: `emit` has logged the event already; nothing else to do."""

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        return None


class PubSubPublisher:
    def __init__(self, topic: str, project: str | None) -> None:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # heavy: first publish only

        self._client = pubsub_v1.PublisherClient()
        self._topic = (
            topic
            if topic.startswith("projects/")
            else (self._client.topic_path(project or "", topic))
        )
        if get_config().pubsub_emulator_host:
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


class LocalEndpointPublisher:
    """The local stack's and the tests' stand-in for the Pub/Sub push subscription: each event
    is POSTed to `EVENTS_LOCAL_ENDPOINT` (the notifier's functions-framework server) as the
    binary-mode CloudEvent a Pub/Sub-triggered function receives. Delivery happens on background
    threads, so the request that emitted the event never waits for it; a non-2xx answer is
    retried with backoff like a Pub/Sub push subscription, up to `DELIVERY_ATTEMPTS` (the
    catalogue's dead_letter_after), then logged as dead-lettered."""

    DELIVERY_ATTEMPTS = 5
    WORKERS = 4

    def __init__(self, endpoint: str, project: str | None) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError("EVENTS_LOCAL_ENDPOINT must be an http(s) URL")
        self._endpoint = endpoint
        self._project = project or "local"
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=10_000)
        for index in range(self.WORKERS):
            threading.Thread(
                target=self._deliver_forever, name=f"events-{index}", daemon=True
            ).start()

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        self._queue.put_nowait(message(event_type, data))

    def _deliver_forever(self) -> None:
        while True:
            payload = self._queue.get()
            for attempt in range(self.DELIVERY_ATTEMPTS):
                if self._deliver(payload):
                    break
                time.sleep(min(0.1 * 2**attempt, 2.0))
            else:
                log_event(logger, 40, "domain event dead-lettered (local delivery)")

    def _deliver(self, payload: bytes) -> bool:
        headers, body = pubsub_cloud_event(payload, self._project, "events")
        # The scheme was checked in __init__: only http(s) is ever opened.
        request = urllib.request.Request(self._endpoint, data=body, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError):
            return False


def pubsub_cloud_event(data: bytes, project: str, topic: str) -> tuple[dict[str, str], bytes]:
    """A binary-mode CloudEvent as a Pub/Sub-triggered function receives a message: (headers,
    body). The local stack delivers sweeps and domain events this way."""
    message_id = uuid.uuid4().hex
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": {},
            "messageId": message_id,
            "publishTime": now,
        },
        "subscription": f"projects/{project}/subscriptions/eventarc-{topic}",
    }
    headers = {
        "ce-id": message_id,
        "ce-specversion": "1.0",
        "ce-source": f"//pubsub.googleapis.com/projects/{project}/topics/{topic}",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-time": now,
        "Content-Type": "application/json",
    }
    return headers, json.dumps(body).encode()


_lock = threading.Lock()
_publisher: Publisher | None = None


def publisher() -> Publisher:
    global _publisher
    if _publisher is None:
        with _lock:
            if _publisher is None:
                config = get_config()
                if config.events_topic:
                    _publisher = PubSubPublisher(config.events_topic, config.google_cloud_project)
                elif config.events_local_endpoint:
                    _publisher = LocalEndpointPublisher(
                        config.events_local_endpoint, config.google_cloud_project
                    )
                else:
                    _publisher = LoggingPublisher()
    return _publisher


def reset() -> None:
    global _publisher
    with _lock:
        _publisher = None


def emit(event_type: str, data: dict[str, Any]) -> None:
    """Log and publish a domain event; a failure is logged, never raised. The log line
    carries the type and ids only (never personal data), so every event can be traced
    whichever publisher carries it."""
    log_event(
        logger,
        20,
        "domain event",
        event_type=event_type,
        **{k: v for k, v in data.items() if k.endswith("_id")},
    )
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
