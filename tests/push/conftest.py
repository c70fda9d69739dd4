"""Push test helpers: devices registered over HTTP, domain events delivered to the notifier as
real Pub/Sub-shaped CloudEvents, and waiting on what the FCM stand-in received."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

import httpx
import pytest

from devstack.fcm_standin import FcmStandin
from shared.domain_events import pubsub_cloud_event
from tests.pairing.conftest import (  # noqa: F401  (fixtures shared with pairing tests)
    client_with_credits,
    online_mitras,
    open_stream,
    pairing_request,
)


def new_token() -> str:
    return "tok-" + secrets.token_urlsafe(24)


@pytest.fixture
def fcm(stack: Any) -> FcmStandin:
    assert stack.fcm is not None
    return stack.fcm


@pytest.fixture
def register_device(api: httpx.Client):  # type: ignore[no-untyped-def]
    def register(
        user: Any,
        audience: str,
        *,
        token: str | None = None,
        locale: str = "id-ID",
        platform: str = "android",
    ) -> str:
        token = token or new_token()
        response = api.put(
            f"/api/{audience}/devices/{token}",
            json={"platform": platform, "app_version": "1.4.0", "locale": locale},
            headers=user.headers,
        )
        assert response.status_code in (200, 201), response.text
        return token

    return register


def deliver(stack: Any, event_type: str, data: dict[str, Any], event_id: str | None = None) -> int:
    """POST one domain event to the notifier as Eventarc delivers a Pub/Sub message."""
    payload = json.dumps(
        {"id": event_id or uuid.uuid4().hex, "type": event_type, "at": "now", "data": data}
    ).encode()
    return deliver_raw(stack, payload)


def deliver_raw(stack: Any, payload: bytes) -> int:
    headers, body = pubsub_cloud_event(payload, "demo-halo-bestie", "events")
    return httpx.post(stack.notifier_url, content=body, headers=headers, timeout=60).status_code


def pushes(
    fcm: FcmStandin,
    token: str,
    *,
    at_least: int = 1,
    settle_s: float = 1.0,
    timeout_s: float = 15.0,
) -> list[dict[str, Any]]:
    """The messages the stand-in accepted for the token, once at least `at_least` arrived and
    nothing more came for `settle_s` (so "exactly one" is checked, not just "one")."""
    deadline = time.monotonic() + timeout_s
    while len(fcm.received(token)) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = len(fcm.received(token))
    while True:
        time.sleep(settle_s)
        now = len(fcm.received(token))
        if now == seen:
            return [m["message"] for m in fcm.received(token)]
        seen = now
