"""Sending one push through FCM HTTP v1 (`POST {FCM_API_BASE}/v1/projects/{project}/messages:send`).

Why not firebase-admin's `messaging`: its send URL is a fixed class constant
(`_MessagingService.FCM_URL = 'https://fcm.googleapis.com/v1/projects/{0}/messages:send'`,
firebase-admin 7.x) stored in a private attribute, so pointing it at a local stand-in would
mean patching private attributes. We call the same v1 endpoint with google-auth's
`AuthorizedSession` (the function's service account through Application Default
Credentials, scope `firebase.messaging`) and a configurable base URL instead.

Locally `FCM_API_BASE` points at the stand-in (devstack/fcm_standin.py) on loopback; then,
and only then, a static bearer token stands in for real credentials, so no Google account
is needed and nothing real can be reached with it.

Outcomes: `sent`; `unregistered` (404 / UNREGISTERED) and `invalid` (INVALID_ARGUMENT about
the token, SENDER_ID_MISMATCH): the caller deletes the token; `transient_failure` after
bounded retries with backoff (429, 5xx, UNAVAILABLE, INTERNAL, network errors); `dropped`
for every other permanent refusal.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from shared.config import get_config

Outcome = Literal["sent", "unregistered", "invalid", "transient_failure", "dropped"]
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_TOKEN = "local-fcm-standin-token"  # noqa: S105  (not a secret: loopback stand-in only)
ATTEMPTS = 3
BACKOFF_S = 0.25  # doubled per attempt, with jitter; Retry-After honoured up to MAX_WAIT_S
MAX_WAIT_S = 5.0
REQUEST_TIMEOUT_S = 10.0
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset({"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED"})


@dataclass(frozen=True, slots=True)
class Push:
    token: str
    platform: str  # android | ios | web
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str
    ttl_s: int
    high_priority: bool
    extra: dict[str, Any] = field(default_factory=dict)


def message(push: Push) -> dict[str, Any]:
    """The v1 `message` for one device: notification + data, with the platform's collapse,
    TTL and priority settings."""
    ttl = max(0, int(push.ttl_s))
    body: dict[str, Any] = {
        "token": push.token,
        "notification": {"title": push.title, "body": push.body},
        "data": push.data,
    }
    if push.platform == "android":
        body["android"] = {
            "collapse_key": push.collapse_key,
            "priority": "HIGH" if push.high_priority else "NORMAL",
            "ttl": f"{ttl}s",
            "notification": {"tag": push.collapse_key},
        }
    elif push.platform == "ios":
        body["apns"] = {
            "headers": {
                "apns-collapse-id": push.collapse_key,
                "apns-priority": "10" if push.high_priority else "5",
                "apns-expiration": str(int(time.time()) + ttl),
            }
        }
    else:
        body["webpush"] = {
            "headers": {"TTL": str(ttl), "Urgency": "high" if push.high_priority else "normal"},
            "notification": {"tag": push.collapse_key},
        }
    return body


class FcmClient:
    def __init__(self, api_base: str, project: str) -> None:
        from google.auth.transport.requests import AuthorizedSession
        from requests.adapters import HTTPAdapter

        self._url = f"{api_base.rstrip('/')}/v1/projects/{project}/messages:send"
        self._session = AuthorizedSession(_credentials(api_base))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def send(self, push: Push) -> Outcome:
        for attempt in range(ATTEMPTS):
            outcome, retry_after = self._send_once(push)
            if outcome != "transient_failure":
                return outcome
            if attempt + 1 < ATTEMPTS:
                delay = retry_after if retry_after is not None else BACKOFF_S * 2**attempt
                time.sleep(min(MAX_WAIT_S, delay) * random.uniform(0.8, 1.2))
        return "transient_failure"

    def _send_once(self, push: Push) -> tuple[Outcome, float | None]:
        import google.auth.exceptions
        import requests

        try:
            response = self._session.post(
                self._url, json={"message": message(push)}, timeout=REQUEST_TIMEOUT_S
            )
        except (requests.RequestException, google.auth.exceptions.GoogleAuthError):
            # Network trouble, or no access token right now (metadata server hiccup).
            return "transient_failure", None
        if response.status_code == 200:
            return "sent", None
        return classify(response.status_code, _json(response)), _retry_after(response)


def classify(status: int, body: dict[str, Any]) -> Outcome:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    codes = {str(error.get("status", ""))}
    token_field = False
    for detail in error.get("details") or ():
        if isinstance(detail, dict):
            codes.add(str(detail.get("errorCode", "")))
            for violation in detail.get("fieldViolations") or ():
                if isinstance(violation, dict) and violation.get("field") == "message.token":
                    token_field = True
    if "UNREGISTERED" in codes or status == 404:
        return "unregistered"
    if "SENDER_ID_MISMATCH" in codes:
        return "invalid"
    if "INVALID_ARGUMENT" in codes and (
        token_field or "registration token" in str(error.get("message", "")).lower()
    ):
        return "invalid"
    if status in _TRANSIENT_STATUS or codes & _TRANSIENT_CODES:
        return "transient_failure"
    return "dropped"


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: Any) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _credentials(api_base: str) -> Any:
    if urlsplit(api_base).hostname in LOOPBACK_HOSTS:
        # The stand-in accepts any bearer; no real credentials exist or are needed locally.
        from google.oauth2.credentials import Credentials

        return Credentials(token=LOCAL_TOKEN)
    import google.auth

    credentials, _project = google.auth.default(scopes=[SCOPE])
    return credentials


_lock = threading.Lock()
_client: FcmClient | None = None


def client() -> FcmClient:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                config = get_config()
                _client = FcmClient(config.fcm_api_base, config.firebase_project_id)
    return _client
