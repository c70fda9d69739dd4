"""Health during a Valkey outage: the public liveness route still answers `ok` (it asks no
store, so the load balancer keeps the instances), while the operators' readiness view says
which store is down and answers 503."""

from __future__ import annotations

import pytest

from tests.admin.conftest import SEEDED_EMAIL, SEEDED_PASSWORD, login
from tests.conftest import bearer
from tests.faults.conftest import valkey_answers, wait_until


@pytest.mark.timeout(60)
def test_valkey_down_readiness_503_liveness_ok(stack, api, admin_api, healthy):
    operator = bearer(login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD).json()["token"])

    stack.valkey.stop()
    try:
        readiness = admin_api.get("/api/admin/health", headers=operator)
        liveness = api.get("/api/shared/health")
    finally:
        stack.valkey.start()
    wait_until(lambda: valkey_answers(stack))
    recovered = admin_api.get("/api/admin/health", headers=operator)

    assert liveness.status_code == 200 and liveness.json() == {"status": "ok"}
    assert readiness.status_code == 503, readiness.text
    body = readiness.json()
    assert body["status"] == "down"
    assert body["valkey"]["state"] == "down" and body["valkey"]["detail"]
    assert body["postgres"]["state"] == "ok"
    assert recovered.status_code == 200
    assert recovered.json()["valkey"]["state"] == "ok"
