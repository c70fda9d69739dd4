"""The test stack: real PostgreSQL, real Valkey, the real Firebase Auth emulator and the real
functions-framework servers, started once per test session on free ports.

Tests talk HTTP to `stack.public_url` / `stack.admin_url` exactly as the apps do. The test
process itself gets the same environment as the functions, so a test may also read the
database or Valkey directly to check what a request changed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from devstack.servers import free_port
from devstack.stack import LocalStack, Ports, StackOptions
from shared.chat_crypto import new_key_entry
from tests.support import documented
from tests.support.firebase_accounts import Account, FirebaseAccounts

# The browser tests' page origin (tests/browser): on both allow-lists of the test stack, so
# the stack needs its port before it starts.
BROWSER_ORIGIN_PORT = free_port()
BROWSER_ORIGIN = f"http://127.0.0.1:{BROWSER_ORIGIN_PORT}"
# Open streams re-check their caller this often here (30 s in production), so the tests
# that suspend a caller see the stream end quickly.
STREAM_RECHECK_S = 1.0
CHAT_OLD_KEY_ID, CHAT_KEY_ID = "test-old", "test-new"
REVOCATION_CHECK_S = 1


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    ports = Ports(
        public=free_port(),
        admin=free_port(),
        sweeper=free_port(),
        emulator=free_port(),
        xendit=free_port(),
        postgres=free_port(),
        valkey=free_port(),
        notifier=free_port(),
        fcm=0,  # the FCM stand-in binds a free port itself
    )
    local = LocalStack(
        StackOptions(
            data_dir=Path(tmp_path_factory.mktemp("stack")),
            ports=ports,
            environment="test",
            sweep_interval_s=0,  # tests deliver sweeps themselves (stack.sweep_now())
            settings_cache_s=0,
            admin_password="test-admin-password",
            operator_token_secret=secrets.token_urlsafe(32),
            cors_admin_origins=(BROWSER_ORIGIN,),
            cors_public_origins=(BROWSER_ORIGIN,),
            # Short keep-alives so stream tests see one quickly and streams close fast.
            extra_env={
                "SSE_KEEPALIVE_S": "1",
                "STREAM_RECHECK_S": str(STREAM_RECHECK_S),
                # Two chat keys, the newer active: tests/chat writes under the older one to
                # show rotation keeps old messages readable.
                "CHAT_KEYS": f"{new_key_entry(CHAT_OLD_KEY_ID)},{new_key_entry(CHAT_KEY_ID)}",
                "CHAT_ACTIVE_KEY_ID": CHAT_KEY_ID,
                # Scripted conversations send faster than a person; tests/chat checks the
                # limit itself with a burst above this.
                "CHAT_SEND_RATE": "200/second;10000/minute",
                # A revoked Firebase user is re-checked every second here (240 s in production).
                "REVOCATION_CHECK_S": str(REVOCATION_CHECK_S),
                # The randomized ledger test buys up to 30 times a minute as one client.
                "PAYMENT_CREATE_RATE": "60/minute",
                # The fault tests beat and press far faster than people do.
                "HEARTBEAT_RATE": "120/minute",
                "PAIRING_REQUEST_RATE": "120/minute",
            },
        )
    )
    local.start()
    previous = dict(os.environ)
    os.environ.update(local.env())
    _reset_process_clients()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(previous)
        _reset_process_clients()


def _reset_process_clients() -> None:
    from shared import db, valkey
    from shared.config import get_config
    from shared.domain import settings
    from shared.identity import firebase

    get_config.cache_clear()
    db.reset_engine()
    valkey.reset_client()
    firebase.reset()
    settings.forget_cache()


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    check = documented.hook(stack.public_url, documented.DOCUMENTS["public"])
    with httpx.Client(
        base_url=stack.public_url, timeout=30, event_hooks={"response": [check]}
    ) as client:
        yield client


@pytest.fixture(scope="session")
def admin_api(stack: LocalStack) -> Iterator[httpx.Client]:
    check = documented.hook(stack.admin_url, documented.DOCUMENTS["admin"])
    with httpx.Client(
        base_url=stack.admin_url, timeout=30, event_hooks={"response": [check]}
    ) as client:
        yield client


@pytest.fixture(scope="session")
def accounts(stack: LocalStack) -> FirebaseAccounts:
    return FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)


@pytest.fixture(scope="session")
def database(stack: LocalStack) -> Iterator[sa.Engine]:
    engine = sa.create_engine(stack.database_url)
    yield engine
    engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def random_phone() -> str:
    """An Indonesian mobile number no other test uses."""
    return "+62812" + "".join(secrets.choice("0123456789") for _ in range(8))


@dataclass
class ClientUser:
    account: Account
    id: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.account.id_token)


@dataclass
class MitraUser:
    account: Account
    id: str
    phone: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.account.id_token)


@pytest.fixture(scope="session")
def make_client(api: httpx.Client, accounts: FirebaseAccounts):  # type: ignore[no-untyped-def]
    """A new anonymous client with a profile (and the trial grant)."""

    def make(display_name: str = "Klien Uji") -> ClientUser:
        account = accounts.sign_in_anonymously()
        response = api.post(
            "/api/client/auth/register",
            json={"display_name": display_name},
            headers=bearer(account.id_token),
        )
        assert response.status_code == 201, response.text
        return ClientUser(account=account, id=response.json()["id"])

    return make


@pytest.fixture(scope="session")
def make_mitra(api: httpx.Client, accounts: FirebaseAccounts, database: sa.Engine):  # type: ignore[no-untyped-def]
    """A new mitra, created as an operator would (a row with a phone), logged in by phone OTP."""

    def make(name: str = "Mitra Uji", max_customers: int | None = None) -> MitraUser:
        phone = random_phone()
        with database.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO mitras (name, phone, max_customers) VALUES (:n, :p, :m)"),
                {"n": name, "p": phone, "m": max_customers},
            )
        account = accounts.sign_in_with_phone(phone)
        response = api.post("/api/mitra/auth/login", headers=bearer(account.id_token))
        assert response.status_code == 200, response.text
        return MitraUser(account=account, id=response.json()["id"], phone=phone)

    return make
