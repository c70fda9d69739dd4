"""The local servers are real: each starts on a free loopback port and behaves like production's."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy as sa

from devstack.firebase_emulator import FirebaseAuthEmulator
from devstack.servers import (
    EmbeddedPostgres,
    EmbeddedValkey,
    ServerStartError,
    ensure_port_free,
    free_port,
)
from tests.support.firebase_accounts import FirebaseAccounts, FirebaseAuthError

REPO_ROOT = Path(__file__).resolve().parents[2]


def _execute(url: str, *statements: str) -> object:
    """Run statements in one transaction; return the scalar result of the last one."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            results = [connection.execute(sa.text(sql)) for sql in statements]
            return results[-1].scalar() if results[-1].returns_rows else None
    finally:
        engine.dispose()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


# ------------------------------------------------------------------------------ PostgreSQL


def test_postgres_keeps_committed_rows_across_restart(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path / "pg", free_port()) as postgres:
        _execute(postgres.url, "CREATE TABLE notes (body text)", "INSERT INTO notes VALUES ('x')")

        postgres.restart()

        assert _execute(postgres.url, "SELECT body FROM notes") == "x"


def test_postgres_reuses_the_cluster_of_an_earlier_run(tmp_path: Path) -> None:
    port = free_port()
    with EmbeddedPostgres(tmp_path / "pg", port) as first:
        _execute(first.url, "CREATE TABLE survivors AS SELECT 1 AS id")

    with EmbeddedPostgres(tmp_path / "pg", port) as second:
        assert _execute(second.url, "SELECT count(*) FROM survivors") == 1


def test_postgres_serves_the_halo_database_on_loopback_with_test_settings(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path / "pg", free_port()) as postgres:
        assert postgres.url.endswith(f"@127.0.0.1:{postgres.port}/halo")
        assert _execute(postgres.url, "SELECT current_database()") == "halo"
        assert _execute(postgres.url, "SHOW listen_addresses") == "127.0.0.1"
        assert _execute(postgres.url, "SHOW fsync") == "off"
        assert _execute(postgres.url, "SHOW max_connections") == "300"


def test_postgres_stop_twice_is_harmless(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pg", free_port())
    postgres.start()

    postgres.stop()
    postgres.stop()

    assert not postgres.running
    assert not _port_open(postgres.port)


# ---------------------------------------------------------------------------------- Valkey


def test_valkey_answers_set_get_and_forgets_everything_on_restart(tmp_path: Path) -> None:
    with EmbeddedValkey(tmp_path / "valkey", free_port()) as valkey:
        client = redis.Redis.from_url(valkey.url)
        client.set("presence:mitra:1", "online")
        assert client.get("presence:mitra:1") == b"online"

        valkey.restart()

        assert client.get("presence:mitra:1") is None
        client.close()


def test_valkey_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    port = free_port()
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from devstack.servers import EmbeddedValkey
        EmbeddedValkey(Path({str(tmp_path)!r}), {port}).start()
        print("up", flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "up"
    assert _port_open(port)

    parent.kill()  # SIGKILL: no atexit, only the kernel's parent-death signal helps
    parent.wait()

    _wait_for(lambda: not _port_open(port), timeout=5)


def test_a_taken_port_is_reported_before_starting() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        with pytest.raises(ServerStartError, match="already in use"):
            ensure_port_free(holder.getsockname()[1])


# ----------------------------------------------------------------------- Firebase emulator

needs_node = pytest.mark.skipif(
    shutil.which("firebase") is None and shutil.which("npm") is None,
    reason="the Auth emulator needs Node.js with npm (or firebase-tools on PATH)",
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirebaseAuthEmulator]:
    # The default install: the one `nox -s tests` put in place before pytest started.
    server = FirebaseAuthEmulator(port=free_port(), work_dir=tmp_path_factory.mktemp("emulator"))
    with server:
        yield server


@pytest.fixture
def accounts(emulator: FirebaseAuthEmulator) -> Iterator[FirebaseAccounts]:
    with FirebaseAccounts(emulator.host_port, emulator.project_id) as client:
        yield client


@needs_node
@pytest.mark.timeout(300)  # in case pytest runs without nox and must install firebase-tools
def test_emulator_issues_anonymous_tokens_for_its_project(accounts: FirebaseAccounts) -> None:
    account = accounts.sign_in_anonymously()

    claims = account.claims
    assert claims["sub"] == account.uid
    assert claims["aud"] == "demo-halo-bestie"
    assert claims["iss"] == "https://securetoken.google.com/demo-halo-bestie"
    assert claims["firebase"]["sign_in_provider"] == "anonymous"


@needs_node
@pytest.mark.timeout(300)
def test_emulator_phone_otp_token_carries_the_phone_number(accounts: FirebaseAccounts) -> None:
    account = accounts.sign_in_with_phone("+6281234500001")

    assert account.claims["phone_number"] == "+6281234500001"
    assert account.claims["firebase"]["sign_in_provider"] == "phone"


@needs_node
@pytest.mark.timeout(300)
def test_linking_anonymous_to_phone_keeps_the_uid(accounts: FirebaseAccounts) -> None:
    anonymous = accounts.sign_in_anonymously()

    linked = accounts.link_phone(anonymous, "+6281234500002")

    assert linked.uid == anonymous.uid
    assert linked.claims["phone_number"] == "+6281234500002"
    assert linked.claims["firebase"]["sign_in_provider"] == "phone"


@needs_node
@pytest.mark.timeout(300)
def test_linking_a_phone_owned_by_someone_else_is_refused(accounts: FirebaseAccounts) -> None:
    accounts.sign_in_with_phone("+6281234500003")

    with pytest.raises(FirebaseAuthError) as refused:
        accounts.link_phone(accounts.sign_in_anonymously(), "+6281234500003")

    assert refused.value.code == "PHONE_NUMBER_EXISTS"


@needs_node
@pytest.mark.timeout(300)
def test_token_for_other_project_names_that_project(accounts: FirebaseAccounts) -> None:
    foreign = accounts.token_for_other_project("demo-someone-else")

    assert foreign.claims["aud"] == "demo-someone-else"
    assert foreign.claims["iss"] == "https://securetoken.google.com/demo-someone-else"


@needs_node
@pytest.mark.timeout(300)
def test_clear_accounts_forgets_users(
    emulator: FirebaseAuthEmulator, accounts: FirebaseAccounts
) -> None:
    first = accounts.sign_in_with_phone("+6281234500004")

    emulator.clear_accounts()

    assert accounts.sign_in_with_phone("+6281234500004").uid != first.uid


# ------------------------------------------------------------------ functions-framework servers

_STREAMING_APP = """
import time

import flask


def stream(request):
    def forever():
        while True:  # like an event stream: only the client or the server ends it
            yield ": keep-alive\\n\\n"
            time.sleep(0.2)

    return flask.Response(forever(), mimetype="text/event-stream")
"""


def _open_stream(url: str, opened: threading.Event, ended: list[str]) -> None:
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(30, read=30)) as response:
            for _chunk in response.iter_bytes():
                opened.set()
    except httpx.HTTPError as exc:
        ended.append(type(exc).__name__)
        return
    ended.append("closed")


@pytest.mark.timeout(90)
def test_a_server_with_open_event_streams_stops_at_once_and_restarts_on_its_port(
    tmp_path: Path,
) -> None:
    from devstack.stack import FunctionServer

    (tmp_path / "app.py").write_text(_STREAMING_APP)
    env = {**os.environ, "THREADS": "16"}
    server = FunctionServer(
        "streams",
        free_port(),
        ["--source", str(tmp_path / "app.py"), "--target", "stream"],
        env,
        tmp_path,
    )
    server.start()
    try:
        opened = [threading.Event() for _ in range(5)]
        ended: list[str] = []
        readers = [
            threading.Thread(target=_open_stream, args=(server.url, event, ended), daemon=True)
            for event in opened
        ]
        for reader in readers:
            reader.start()
        for event in opened:
            assert event.wait(20), "a stream did not open"

        started = time.monotonic()
        server.stop()
        stopped_in = time.monotonic() - started

        assert stopped_in < server.stop_grace_s + 3, stopped_in
        assert not _port_open(server.port)
        for reader in readers:
            reader.join(10)
        assert len(ended) == 5  # every stream was ended by the stop, none left hanging

        started = time.monotonic()
        server.start()  # the same port, at once
        assert time.monotonic() - started < 30
        with httpx.stream("GET", server.url, timeout=10) as again:
            assert next(again.iter_bytes()).startswith(b": keep-alive")
    finally:
        server.stop()
    assert not _port_open(server.port)
