"""Fault tests stop and restart the real PostgreSQL and Valkey under the running functions.

They (and the fuzz tests, which leave mitras and settings behind them) run after every other
test, so an outage — or a test that fails half-way through one — cannot leak into tests that
assume a healthy, undisturbed stack. Each fault test also brings the stack back to health
itself (`healthy`), whatever happens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from devstack.stack import LocalStack
from shared.domain import settings as product_settings
from tests.conftest import ClientUser, MitraUser
from tests.pairing.conftest import give_credits

LAST = ("tests/fuzz/", "tests/faults/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.replace("\\", "/")
        return next((i + 1 for i, prefix in enumerate(LAST) if path.startswith(prefix)), 0)

    items.sort(key=rank)  # stable: the order within each group is kept


def wait_until(check: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(interval)


def valkey_answers(stack: LocalStack) -> bool:
    return bool(redis.Redis.from_url(stack.valkey_url, socket_timeout=1).ping())


def postgres_answers(stack: LocalStack) -> bool:
    engine = sa.create_engine(stack.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.fixture
def healthy(stack: LocalStack, database: sa.Engine) -> Iterator[None]:
    """Whatever the test did to the stores, they answer again afterwards, the settings are
    what they were, and one sweep has reconciled Valkey."""
    saved = product_settings.current()
    try:
        yield
    finally:
        assert stack.postgres is not None and stack.valkey is not None
        if not stack.postgres.running:
            stack.postgres.start()
        if not stack.valkey.running:
            stack.valkey.start()
        wait_until(lambda: postgres_answers(stack))
        wait_until(lambda: valkey_answers(stack))
        database.dispose()
        product_settings.save(saved, None)
        assert stack.sweep_now() in (200, 204)


@pytest.fixture
def online(api: httpx.Client):  # type: ignore[no-untyped-def]
    """online(mitra): toggled on through the API and one heartbeat sent, as the app does.
    Every mitra made online here is toggled off after the test."""
    made: list[MitraUser] = []

    def put_online(mitra: MitraUser) -> MitraUser:
        toggled = api.put("/api/mitra/presence", json={"status": "online"}, headers=mitra.headers)
        assert toggled.status_code == 200, toggled.text
        beat = api.post("/api/mitra/presence/heartbeat", headers=mitra.headers)
        assert beat.status_code == 204, beat.text
        made.append(mitra)
        return mitra

    yield put_online
    for mitra in made:
        api.put("/api/mitra/presence", json={"status": "offline"}, headers=mitra.headers)


@pytest.fixture
def paying_client(make_client, database):  # type: ignore[no-untyped-def]
    def make(sessions: int = 5) -> ClientUser:
        client: ClientUser = make_client("Klien Gangguan")
        give_credits(database, client.id, sessions)
        return client

    return make


def active_sessions(database: sa.Engine, *, client_ids: list[str]) -> list[sa.Row]:
    with database.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT id, client_id, mitra_id FROM sessions"
                    " WHERE status = 'active' AND client_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": client_ids},
            )
        )


def requests_of(database: sa.Engine, client_ids: list[str]) -> list[sa.Row]:
    with database.connect() as connection:
        return list(
            connection.execute(
                sa.text(
                    "SELECT id, client_id, status FROM pairing_requests"
                    " WHERE client_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": client_ids},
            )
        )
