"""A Pub/Sub push subscription delivers each domain-events message here as a CloudEvent
(`google.cloud.pubsub.topic.v1.messagePublished`, the domain event JSON base64-encoded in
`message.data`).

A malformed delivery (wrong envelope, undecodable data, an event without the fields its
type needs) is logged and acknowledged: a retry would be just as malformed. Transient
failures (FCM, PostgreSQL, Valkey) raise, so Pub/Sub redelivers; after the catalogue's
`dead_letter_after` attempts the message goes to the `notifier-dead-letter` topic.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from shared import errors
from shared.domain import notifier
from shared.log import get_logger, log_event
from shared.web import untrusted

PUBSUB_MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
MAX_MESSAGE_BYTES = 1_000_000
logger = get_logger("halo.notifier")


def on_message(event: Any) -> None:
    try:
        domain_event = _decode(event)
        notifier.handle(domain_event)
    except notifier.MalformedEvent as problem:
        log_event(logger, 30, "ignored a malformed domain event", problem=str(problem)[:200])


def _decode(event: Any) -> Any:
    try:
        event_type = event["type"]
        data = event.get_data()
    except Exception:
        raise notifier.MalformedEvent("not a CloudEvent") from None
    if event_type != PUBSUB_MESSAGE_PUBLISHED:
        raise notifier.MalformedEvent(f"unexpected CloudEvent type {str(event_type)[:100]!r}")
    message = data.get("message") if isinstance(data, dict) else None
    encoded = message.get("data") if isinstance(message, dict) else None
    if not isinstance(encoded, str) or len(encoded) > MAX_MESSAGE_BYTES:
        raise notifier.MalformedEvent("data is not a Pub/Sub message with data")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise notifier.MalformedEvent("message data is not base64-encoded JSON") from None
    # The same parser as every request body (bounded nesting and numbers, storable text):
    # a plain json.loads recursed on deep nesting into a 500, i.e. an endless redelivery.
    try:
        return untrusted.loads(raw, field="message.data")
    except errors.InvalidRequest:
        raise notifier.MalformedEvent("message data is not base64-encoded JSON") from None
