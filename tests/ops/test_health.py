"""Health: the public liveness route says only "ok" and asks no store; the operators'
readiness view checks PostgreSQL, Valkey and the sweeper's last run."""

from __future__ import annotations


def test_public_health_is_ok_and_says_nothing_else(api):
    response = api.get("/api/shared/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_public_health_is_not_on_the_admin_listener_and_admin_health_not_public(
    api, admin_api, viewer
):
    assert admin_api.get("/api/shared/health").status_code == 404
    assert api.get("/api/admin/health", headers=viewer.headers).status_code == 404


def test_admin_health_checks_the_stores_and_the_sweeper(admin_api, viewer, stack):
    assert stack.sweep_now() == 200

    response = admin_api.get("/api/admin/health", headers=viewer.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["postgres"]["state"] == "ok" and body["postgres"]["latency_ms"] >= 0
    assert body["valkey"]["state"] == "ok" and body["valkey"]["latency_ms"] >= 0
    sweeper = body["sweeper"]
    assert sweeper["last_run_at"] is not None and 0 <= sweeper["age_s"] < 60
    assert sweeper["state"] == ("ok" if sweeper["last_status"] == "ok" else "degraded")
    assert body["status"] in ("ok", "degraded")
    assert sweeper["stale_after_s"] == 180


def test_admin_health_needs_an_operator(admin_api):
    assert admin_api.get("/api/admin/health").status_code == 401
