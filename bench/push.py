"""Push benchmarks against a running local stack (notifier + FCM HTTP v1 stand-in).

- push_sends_per_request_1000: FCM sends caused by ONE pairing request while 1,000 mitras
  are available, none with an open event stream, each with one registered device — the
  "clients are waiting" fan-out. At most one per mitra (1,000).
- push_sends_second_request_same_window: the same for a second request inside the same
  30 s window: the per-mitra collapse keeps it at 0.
- push_waiting_fanout_1000_ms: from the pairing POST returning until the stand-in holds the
  1,000 sends (asynchronous delivery, notifier, 1,000 HTTP sends included).
- notifier_event_ms_p99 / _p50: one domain event (session.ended for a client with one
  device) POSTed to the notifier as a Pub/Sub-shaped CloudEvent until it answers, stand-in
  send included; NOTIFIER_SAMPLES sequential events.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import sqlalchemy as sa

from devstack.stack import LocalStack
from shared.domain_events import pubsub_cloud_event
from tests.support.firebase_accounts import FirebaseAccounts

MITRAS = 1000
NOTIFIER_SAMPLES = 200
HEARTBEATS = "presence:heartbeats"
AVAILABLE = "presence:available"


def _reset_process_clients() -> None:
    from shared import db, valkey
    from shared.config import get_config
    from shared.domain import settings

    get_config.cache_clear()
    db.reset_engine()
    valkey.reset_client()
    settings.forget_cache()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client(http: httpx.Client, accounts: FirebaseAccounts) -> tuple[str, dict[str, str]]:
    account = accounts.sign_in_anonymously()
    body = http.post(
        "/api/client/auth/register",
        json={"display_name": "Bench Klien"},
        headers=_bearer(account.id_token),
    ).json()
    return str(body["id"]), _bearer(account.id_token)


def _mitras_with_devices(engine: sa.Engine, count: int) -> list[str]:
    with engine.begin() as connection:
        ids = [
            str(row)
            for row in connection.execute(
                sa.text(
                    "INSERT INTO mitras (name, phone) SELECT 'Push Bench', '+6287' ||"
                    " lpad((floor(random() * 1e5))::bigint::text, 5, '0') || lpad(g::text, 4, '0')"
                    " FROM generate_series(1, :n) g RETURNING id"
                ),
                {"n": count},
            ).scalars()
        ]
        connection.execute(
            sa.text(
                "INSERT INTO devices (token, owner_kind, owner_id, platform, app_version, locale)"
                " SELECT 'push-bench-' || m::text, 'mitra', m, 'android', '1.0', 'id-ID'"
                " FROM unnest(CAST(:ids AS uuid[])) m"
            ),
            {"ids": ids},
        )
    return ids


def _waiting_sends(stack: LocalStack) -> int:
    assert stack.fcm is not None
    return sum(
        1
        for m in stack.fcm.received()
        if m["message"]["token"].startswith("push-bench-")
        and m["message"]["data"].get("type") == "pairing.waiting"
    )


def _settled_count(stack: LocalStack, expect: int, quiet_s: float = 2.0) -> tuple[int, float]:
    """(sends seen once nothing new arrived for quiet_s, seconds until `expect` was reached)."""
    started = time.monotonic()
    reached_at = None
    last, last_change = _waiting_sends(stack), time.monotonic()
    while time.monotonic() - started < 120:
        time.sleep(0.02)
        now = _waiting_sends(stack)
        if reached_at is None and now >= expect:
            reached_at = time.monotonic() - started
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change >= quiet_s and (reached_at or expect == 0):
            break
    return last, (reached_at or 0.0)


def _notifier_latency(stack: LocalStack, client_id: str) -> list[float]:
    samples = []
    with httpx.Client(timeout=30) as http:
        for _ in range(NOTIFIER_SAMPLES):
            payload = json.dumps(
                {
                    "id": uuid.uuid4().hex,
                    "type": "session.ended",
                    "data": {
                        "session_id": str(uuid.uuid4()),
                        "client_id": client_id,
                        "ended_by": "mitra",
                    },
                }
            ).encode()
            headers, body = pubsub_cloud_event(payload, "demo-halo-bestie", "events")
            started = time.perf_counter()
            status = http.post(stack.notifier_url, content=body, headers=headers).status_code
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
    return samples


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(stack: LocalStack) -> dict[str, float]:
    _reset_process_clients()
    from shared import valkey as shared_valkey

    valkey = shared_valkey.client()
    engine = sa.create_engine(stack.database_url)
    accounts = FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)
    results: dict[str, float] = {}
    mitras = _mitras_with_devices(engine, MITRAS)
    now_ms = int(time.time() * 1000)
    valkey.zadd(HEARTBEATS, dict.fromkeys(mitras, now_ms))
    valkey.zadd(AVAILABLE, dict.fromkeys(mitras, now_ms))
    try:
        with httpx.Client(base_url=stack.public_url, timeout=30) as http:
            first_id, first = _client(http, accounts)
            _second_id, second = _client(http, accounts)
            before = _waiting_sends(stack)
            assert http.post("/api/client/pairing-requests", headers=first).status_code == 201
            sends, reached_s = _settled_count(stack, before + MITRAS)
            results["push_sends_per_request_1000"] = float(sends - before)
            results["push_waiting_fanout_1000_ms"] = round(reached_s * 1000, 1)
            before = _waiting_sends(stack)
            assert http.post("/api/client/pairing-requests", headers=second).status_code == 201
            sends, _ = _settled_count(stack, before)
            results["push_sends_second_request_same_window"] = float(sends - before)
            token = f"bench-client-{uuid.uuid4().hex}"
            device = {"platform": "android", "app_version": "1.0", "locale": "en"}
            assert http.put(f"/api/client/devices/{token}", json=device, headers=first).is_success
        samples = _notifier_latency(stack, first_id)
        results["notifier_event_ms_p50"] = round(_percentile(samples, 0.5), 2)
        results["notifier_event_ms_p99"] = round(_percentile(samples, 0.99), 2)
    finally:
        valkey.zrem(HEARTBEATS, *mitras)
        valkey.zrem(AVAILABLE, *mitras)
        engine.dispose()
    return results
