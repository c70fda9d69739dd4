"""Stream tickets over real HTTP: issued to a valid token, single use, short-lived, bound to
their audience; every refusal a 401 in the contract's shape; never in a log."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from shared import valkey
from tests.conftest import bearer

ADMIN_STREAM = "/api/admin/dashboard/stream"


def _ticket(client: httpx.Client, audience: str, headers: dict[str, str]) -> str:
    response = client.post(f"/api/{audience}/stream-tickets", headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["ticket"])


def _open(client: httpx.Client, path: str, ticket: str) -> int:
    """Open a stream with `?ticket=`; read the first frame of a 200. The status."""
    with client.stream("GET", path, params={"ticket": ticket}) as response:
        if response.status_code == 200:
            assert response.headers["content-type"].startswith("text/event-stream")
            next(response.iter_lines())
        else:
            response.read()
            assert response.json()["error"]["code"] == "unauthenticated"
        return response.status_code


def test_a_ticket_is_issued_for_at_most_a_minute(admin_api, root):
    before = datetime.now(UTC)
    response = admin_api.post("/api/admin/stream-tickets", headers=root.headers)

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert len(body["ticket"]) >= 43
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert before < expires_at <= before + timedelta(seconds=61)


def test_a_ticket_opens_its_stream_once(admin_api, root):
    ticket = _ticket(admin_api, "admin", root.headers)

    assert _open(admin_api, ADMIN_STREAM, ticket) == 200
    assert _open(admin_api, ADMIN_STREAM, ticket) == 401


def test_racing_redemptions_of_one_ticket_let_exactly_one_in(api, make_client):
    client = make_client()
    ticket = _ticket(api, "client", client.headers)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def redeem() -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=30) as own:
            barrier.wait()
            statuses.append(_open(own, "/api/client/events", ticket))

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [401] * 7


def test_a_ticket_is_bound_to_its_audience(api, admin_api, make_client):
    client = make_client()
    ticket = _ticket(api, "client", client.headers)

    assert _open(api, "/api/mitra/events", ticket) == 401
    assert _open(admin_api, ADMIN_STREAM, ticket) == 401
    # Looked up only under its own audience, a foreign use did not spend it.
    assert _open(api, "/api/client/events", ticket) == 200


def test_an_expired_ticket_is_refused(api, make_mitra):
    mitra = make_mitra()
    ticket = _ticket(api, "mitra", mitra.headers)
    key = f"stream-ticket:mitra:{hashlib.sha256(ticket.encode()).hexdigest()}"
    assert valkey.client().pexpire(key, 1)  # its lifetime runs out now, in Valkey itself
    # Valkey reads its clock once per event-loop turn: on a busy server a 1 ms expiry can
    # outlive the next command, so wait until Valkey itself says the key is gone.
    deadline = time.monotonic() + 5
    while valkey.client().exists(key) and time.monotonic() < deadline:
        time.sleep(0.01)

    assert _open(api, "/api/mitra/events", ticket) == 401


def test_forged_tickets_and_tokens_in_the_query_string_are_refused(
    api, admin_api, root, make_client
):
    client = make_client()
    forged = "A" * 43
    assert _open(admin_api, ADMIN_STREAM, forged) == 401
    assert _open(admin_api, ADMIN_STREAM, root.token) == 401  # a bearer token is no ticket
    assert _open(api, "/api/client/events", client.account.id_token) == 401
    for name in ("access_token", "token", "auth"):
        response = api.get("/api/client/events", params={name: client.account.id_token})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_the_header_still_opens_a_stream_and_an_empty_ticket_is_refused(admin_api, root):
    with admin_api.stream("GET", ADMIN_STREAM, headers=root.headers) as response:
        assert response.status_code == 200
    assert _open(admin_api, ADMIN_STREAM, "") == 401


def test_a_ticket_needs_a_valid_token_of_the_audience(api, admin_api, make_client, make_mitra):
    client, mitra = make_client(), make_mitra()

    no_token = api.post("/api/client/stream-tickets")
    garbage = admin_api.post("/api/admin/stream-tickets", headers=bearer("not-a-token"))
    firebase_on_admin = admin_api.post("/api/admin/stream-tickets", headers=client.headers)
    mitra_on_client = api.post("/api/client/stream-tickets", headers=mitra.headers)

    assert (no_token.status_code, no_token.json()["error"]["code"]) == (401, "unauthenticated")
    assert garbage.status_code == 401
    assert firebase_on_admin.status_code == 401
    assert (mitra_on_client.status_code, mitra_on_client.json()["error"]["code"]) == (
        403,
        "forbidden",
    )


def test_too_many_tickets_per_caller_is_429_with_retry_after(api, make_client):
    greedy, other = make_client(), make_client()
    statuses = [
        api.post("/api/client/stream-tickets", headers=greedy.headers).status_code
        for _ in range(30)
    ]
    refused = api.post("/api/client/stream-tickets", headers=greedy.headers)

    assert statuses == [201] * 30
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Per caller: someone else is not held back.
    assert api.post("/api/client/stream-tickets", headers=other.headers).status_code == 201


def test_ticket_values_never_reach_a_log(stack, admin_api, root):
    ticket = _ticket(admin_api, "admin", root.headers)
    assert _open(admin_api, ADMIN_STREAM, ticket) == 200
    assert _open(admin_api, ADMIN_STREAM, ticket) == 401

    logs = Path(stack.data_dir, "logs")
    text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    assert ticket not in text


def test_log_lines_redact_credentials_in_urls():
    import io
    import logging

    from shared.log import JsonFormatter, QueryStringRedaction

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    app_log = logging.getLogger("halo.test.redaction")
    access_log = logging.getLogger("halo.test.access")
    for logger in (app_log, access_log):
        logger.addHandler(handler)
        logger.propagate = False
    access_log.addFilter(QueryStringRedaction())

    app_log.warning("opened %s", "/api/admin/dashboard/stream?ticket=SECRET1&x=1")
    access_log.warning('"%s" %s', "GET /api/client/events?ticket=SECRET2&q=Budi HTTP/1.1", 200)

    text = out.getvalue()
    assert "SECRET1" not in text and "ticket=[redacted]" in text
    assert "SECRET2" not in text and "Budi" not in text and "?[redacted]" in text


def test_the_openapi_documents_list_the_ticket_routes(api, admin_api, root):
    client_doc = api.get("/api/client/openapi.json").json()
    mitra_doc = api.get("/api/mitra/openapi.json").json()
    admin_doc = admin_api.get("/api/admin/openapi.json", headers=root.headers).json()

    for doc, prefix, stream in (
        (client_doc, "/api/client", "/api/client/events"),
        (mitra_doc, "/api/mitra", "/api/mitra/events"),
        (admin_doc, "/api/admin", "/api/admin/dashboard/stream"),
    ):
        responses = doc["paths"][f"{prefix}/stream-tickets"]["post"]["responses"]
        assert {"201", "401", "429"} <= set(responses)
        assert {"streamTicket": []} in doc["paths"][stream]["get"]["security"]
        assert doc["components"]["securitySchemes"]["streamTicket"]["in"] == "query"
