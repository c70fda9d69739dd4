"""CORS over real HTTP: preflights answered before authentication from the route table, the
allowed origin named on every kind of response, nothing at all for other origins."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from pydantic import ValidationError

from shared.config import Config
from tests.conftest import BROWSER_ORIGIN, bearer

STRANGER = "https://evil.example"


def _preflight(client, path: str, origin: str, method: str = "POST", headers: str = ""):  # type: ignore[no-untyped-def]
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


def _cors_headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")
    }


def test_login_preflight_is_answered_before_authentication(admin_api):
    response = _preflight(
        admin_api, "/api/admin/auth/login", BROWSER_ORIGIN, headers="content-type"
    )

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS, POST"
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "idempotency-key", "last-event-id"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_methods_come_from_the_route_table(api):
    path = f"/api/client/pairing-requests/{uuid.uuid4()}"
    response = _preflight(api, path, BROWSER_ORIGIN, method="DELETE", headers="authorization")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE, GET, OPTIONS"
    assert response.headers["Allow"] == "DELETE, GET, OPTIONS"


@pytest.mark.parametrize("origin", [STRANGER, "null", "http://127.0.0.1:5173.evil.example"])
def test_a_disallowed_origin_gets_no_cors_headers_at_all(admin_api, origin):
    preflight = _preflight(admin_api, "/api/admin/auth/login", origin, headers="content-type")
    request = admin_api.get("/api/admin/auth/me", headers={"Origin": origin})

    assert preflight.status_code == 204
    assert _cors_headers(preflight) == {}
    assert request.status_code == 401
    assert _cors_headers(request) == {}


def test_options_on_an_unknown_path_is_404_in_the_contract_shape(admin_api, api):
    for client, path in ((admin_api, "/api/admin/no-such-thing"), (api, "/api/client/nope")):
        response = _preflight(client, path, BROWSER_ORIGIN)

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/admin/auth/me", 401), ("/api/admin/no-such-thing", 404), ("/api/admin/dashboard", 401)],
)
def test_errors_to_an_allowed_origin_are_readable_by_the_page(admin_api, path, status):
    response = admin_api.get(path, headers={"Origin": BROWSER_ORIGIN})

    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Request-Id", "Retry-After"} <= exposed
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
@pytest.mark.parametrize(
    ("listener", "path"),
    [
        # functions-framework's own 404 (its `/<path:path>` rule cannot match an encoded
        # newline), answered before any route table
        ("admin_api", "/api/admin/x%0Ay"),
        ("api", "/api/client/x%0Ay"),
        # the load balancer stand-in: no function serves the path
        ("admin_api", "/api/nothing/here"),
        ("api", "/api/nothing/here"),
    ],
)
def test_errors_raised_before_any_route_table_are_readable_by_the_page(
    request, listener, path, method
):
    client = request.getfixturevalue(listener)
    response = client.request(method, path, headers={"Origin": BROWSER_ORIGIN})
    stranger = client.request(method, path, headers={"Origin": STRANGER})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert stranger.status_code == 404
    assert _cors_headers(stranger) == {}


def test_an_event_stream_carries_the_allowed_origin(api, make_client):
    client = make_client()
    headers = {**client.headers, "Origin": BROWSER_ORIGIN}
    with api.stream("GET", "/api/client/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN


def test_a_real_call_from_an_allowed_origin_names_it(admin_api, root):
    response = admin_api.get(
        "/api/admin/auth/me", headers={**bearer(root.token), "Origin": BROWSER_ORIGIN}
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN


def test_options_without_an_origin_lists_the_methods_only(api):
    response = api.options("/api/client/pairing-requests")

    assert response.status_code == 204
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert _cors_headers(response) == {}


def test_any_origin_is_refused_for_the_admin_api_but_allowed_for_the_public_one():
    with pytest.raises(ValidationError, match="never allowed for the admin API"):
        Config(cors_admin_origins="http://localhost:5173, *")
    with pytest.raises(ValidationError, match="not an origin"):
        Config(cors_public_origins="http://localhost:5173/path")
    config = Config(cors_public_origins="*", cors_admin_origins="https://cc.halo.internal/")
    assert config.cors_origins("public") == {"*"}
    assert config.cors_origins("admin") == {"https://cc.halo.internal"}


def test_the_admin_function_refuses_to_start_with_a_wildcard_origin(stack):
    env = {**os.environ, "CORS_ADMIN_ORIGINS": "*"}
    started = subprocess.run(
        [sys.executable, "-c", "import functions.admin.main"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode != 0
    assert "never allowed for the admin API" in started.stderr


def test_the_local_stack_allows_the_vite_dev_server_on_both_listeners(tmp_path, monkeypatch):
    from devstack.__main__ import _origins
    from devstack.stack import LocalStack, StackOptions

    vite = "http://localhost:5173,http://127.0.0.1:5173"
    env = LocalStack(StackOptions(data_dir=tmp_path)).env()
    assert (env["CORS_ADMIN_ORIGINS"], env["CORS_PUBLIC_ORIGINS"]) == (vite, vite)
    # `nox -s dev` keeps them unless its environment names other origins.
    monkeypatch.delenv("CORS_ADMIN_ORIGINS", raising=False)
    assert ",".join(_origins("CORS_ADMIN_ORIGINS")) == vite
    monkeypatch.setenv("CORS_ADMIN_ORIGINS", "https://cc.halo.internal")
    assert _origins("CORS_ADMIN_ORIGINS") == ("https://cc.halo.internal",)
    # Production defaults allow no browser at all.
    monkeypatch.delenv("CORS_ADMIN_ORIGINS")
    monkeypatch.delenv("CORS_PUBLIC_ORIGINS", raising=False)
    assert Config().cors_origins("admin") == Config().cors_origins("public") == frozenset()
