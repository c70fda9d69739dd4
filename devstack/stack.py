"""The whole local stack in one object: embedded PostgreSQL and Valkey (unless DATABASE_URL /
VALKEY_URL point elsewhere), the Firebase Auth emulator, migrations and seed data, the public
and internal gateways served by functions-framework, the sweeper fed by a Pub/Sub-shaped
CloudEvent every `sweep_interval_s`, the notifier fed every domain event as a Pub/Sub-shaped
CloudEvent (shared.domain_events.LocalEndpointPublisher), the FCM HTTP v1 stand-in and the
Xendit stand-in.

`nox -s dev` runs it on the contract's fixed ports; the tests run a second one on free ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from devstack.fcm_standin import FcmStandin
from devstack.firebase_emulator import FirebaseAuthEmulator
from devstack.seed import seed
from devstack.servers import (
    LOOPBACK,
    ChildProcess,
    EmbeddedPostgres,
    EmbeddedValkey,
    ManagedServer,
    free_port,
)
from devstack.upstreams import is_async_entry_point, upstream_variable
from devstack.xendit_standin import XenditStandin
from shared.catalogue import FunctionEntry, load_catalogue
from shared.domain_events import pubsub_cloud_event
from shared.migrations import upgrade

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_ID = "demo-halo-bestie"
SWEEP_TOPIC = "presence-sweep"
# The control center's Vite dev server: allowed on both listeners out of the box, locally
# only (production lists nothing unless configured).
DEV_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")


@dataclass(frozen=True)
class Ports:
    public: int = 8080
    admin: int = 8081
    sweeper: int = 8082
    emulator: int = 9099
    xendit: int = 8090
    postgres: int = 54329
    valkey: int = 63799
    notifier: int = 8083
    fcm: int = 8091
    # Async (ASGI) functions' own servers, behind the public gateway; 0 = a free port each.
    events: int = 0


@dataclass
class StackOptions:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    environment: str = "dev"
    database_url: str | None = None
    valkey_url: str | None = None
    admin_password: str = "halo-admin-dev"
    operator_token_secret: str = "dev-operator-token-secret-not-for-production"
    xendit_api_key: str = "xnd_development_local_standin"
    xendit_callback_token: str = "dev-callback-token"
    sweep_interval_s: float = 60.0
    settings_cache_s: float = 5.0
    cors_admin_origins: tuple[str, ...] = DEV_ORIGINS
    cors_public_origins: tuple[str, ...] = DEV_ORIGINS
    seed: bool = True
    tools_dir: Path | None = None  # firebase-tools install; None = the per-user cache
    extra_env: dict[str, str] = field(default_factory=dict)
    # Instances per public function, standing in for Cloud Run's (names absent: 1). With
    # every count at 1 one in-process gateway serves all public functions; otherwise each
    # instance is its own process and devstack/balancer.py spreads requests over them.
    instances: dict[str, int] = field(default_factory=dict)

    @property
    def spread(self) -> bool:
        return any(count > 1 for count in self.instances.values())


class FunctionServer(ManagedServer):
    """One functions-framework server (gunicorn, threads) on loopback.

    Stopped with SIGINT, gunicorn's quick shutdown: a graceful SIGTERM would wait for every
    open event stream (they run for up to SSE_MAX_STREAM_S) — the apps reconnect anyway.
    Whatever is still running after a short grace is killed with its process group."""

    startup_timeout_s = 60.0
    stop_grace_s = 3.0

    def __init__(self, name: str, port: int, argv: list[str], env: dict[str, str], log_dir: Path):
        super().__init__(port)
        self.display_name = f"functions-framework ({name})"
        self._argv = argv
        self._env = env
        self._log_path = log_dir / f"{name}.log"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _spawn(self) -> ChildProcess:
        argv = [
            sys.executable,
            "-m",
            "functions_framework",
            *self._argv,
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
        ]
        return ChildProcess(
            argv,
            log_path=self._log_path,
            env=self._env,
            cwd=REPO_ROOT,
            stop_signal=signal.SIGINT,
        )

    def _is_ready(self, child: ChildProcess) -> bool:
        try:
            urllib.request.urlopen(f"{self.url}/__ready", timeout=1)
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the server is up
        except OSError:
            return False
        return True


class BalancerServer(ManagedServer):
    """devstack/balancer.py on the public port, in front of every public function's
    instances (spread mode)."""

    display_name = "balancer"
    stop_grace_s = 3.0

    def __init__(
        self, port: int, backends: dict[str, list[str]], env: dict[str, str], log_dir: Path
    ) -> None:
        super().__init__(port)
        self._backends, self._env, self._log_path = backends, env, log_dir / "balancer.log"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _spawn(self) -> ChildProcess:
        argv = [
            sys.executable,
            "-m",
            "devstack.balancer",
            "--port",
            str(self.port),
            "--backends",
            json.dumps(self._backends),
        ]
        return ChildProcess(argv, log_path=self._log_path, env=self._env, cwd=REPO_ROOT)

    def _is_ready(self, child: ChildProcess) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1):
                return True
        except OSError:
            return False


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.data_dir = options.data_dir
        self.postgres: EmbeddedPostgres | None = None
        self.valkey: EmbeddedValkey | None = None
        self.emulator = FirebaseAuthEmulator(
            PROJECT_ID, options.ports.emulator, work_dir=self.data_dir, tools_dir=options.tools_dir
        )
        self.xendit: XenditStandin | None = None
        self.fcm: FcmStandin | None = None
        self.servers: dict[str, ManagedServer] = {}
        self.instances: dict[str, list[FunctionServer]] = {}  # spread mode only
        self.database_url = options.database_url or ""
        self.valkey_url = options.valkey_url or ""
        self._stop_sweeping = threading.Event()
        self._sweeper_thread: threading.Thread | None = None

    # -- addresses --------------------------------------------------------------------------

    @property
    def public_url(self) -> str:
        return f"http://{LOOPBACK}:{self.options.ports.public}"

    @property
    def admin_url(self) -> str:
        return f"http://{LOOPBACK}:{self.options.ports.admin}"

    @property
    def sweeper_url(self) -> str:
        return f"http://{LOOPBACK}:{self.options.ports.sweeper}"

    @property
    def notifier_url(self) -> str:
        return f"http://{LOOPBACK}:{self.options.ports.notifier}"

    @property
    def fcm_url(self) -> str:
        # Port 0 (tests): the stand-in picked a free port itself, with no window for a race.
        if self.fcm is not None:
            return self.fcm.base_url
        return f"http://{LOOPBACK}:{self.options.ports.fcm}"

    @property
    def xendit_url(self) -> str:
        return f"http://{LOOPBACK}:{self.options.ports.xendit}"

    def env(self) -> dict[str, str]:
        """The environment every function process gets (the same names as in Cloud Run)."""
        o = self.options
        return {
            "DATABASE_URL": self.database_url,
            "VALKEY_URL": self.valkey_url,
            "FIREBASE_PROJECT_ID": PROJECT_ID,
            "GOOGLE_CLOUD_PROJECT": PROJECT_ID,
            "FIREBASE_AUTH_EMULATOR_HOST": self.emulator.host_port,
            "OPERATOR_TOKEN_SECRET": o.operator_token_secret,
            "XENDIT_API_KEY": o.xendit_api_key,
            "XENDIT_CALLBACK_TOKEN": o.xendit_callback_token,
            "XENDIT_API_BASE": self.xendit_url,
            # Domain events reach the notifier as the push subscription would deliver them
            # (asynchronously, retried); the notifier sends to the FCM stand-in.
            "EVENTS_LOCAL_ENDPOINT": self.notifier_url,
            "FCM_API_BASE": self.fcm_url,
            "ENVIRONMENT": o.environment,
            "SETTINGS_CACHE_S": str(o.settings_cache_s),
            "CORS_ADMIN_ORIGINS": ",".join(o.cors_admin_origins),
            "CORS_PUBLIC_ORIGINS": ",".join(o.cors_public_origins),
            **chat_keyring(self.data_dir),
            **o.extra_env,
        }

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._start_stores()
            self.emulator.start()
            self._prepare_database()
            self._start_xendit()
            self.fcm = FcmStandin(self.options.ports.fcm).start()
            self._start_functions()
            self._start_sweeper_loop()
        except BaseException:
            self.stop()
            raise

    def _start_stores(self) -> None:
        ports = self.options.ports
        if not self.database_url:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", ports.postgres)
            self.database_url = self.postgres.start()
        if not self.valkey_url:
            self.valkey = EmbeddedValkey(self.data_dir / "valkey", ports.valkey)
            self.valkey_url = self.valkey.start()

    def _prepare_database(self) -> None:
        upgrade(self.database_url)
        if self.options.seed:
            engine = sa.create_engine(self.database_url)
            with engine.begin() as connection:
                seed(connection, self.options.admin_password)
            engine.dispose()

    def _start_xendit(self) -> None:
        self.xendit = XenditStandin(
            port=self.options.ports.xendit,
            callback_url=f"{self.public_url}/api/shared/webhooks/xendit/invoice",
            callback_token=self.options.xendit_callback_token,
            api_key=self.options.xendit_api_key,
        ).start()

    def _start_functions(self) -> None:
        base_env = {**_inherited_env(), **self.env()}
        log_dir = self.data_dir / "logs"
        catalogue = load_catalogue()
        gateway = ["--source", str(REPO_ROOT / "devstack" / "gateway.py"), "--target", "gateway"]
        listeners = [("admin", "internal", self.options.ports.admin)]
        upstreams: dict[str, str] = {}
        if self.options.spread:
            # Every public function (the async events function included) as processes of
            # its own behind the balancer.
            self._start_instances(base_env, log_dir)
        else:
            upstreams = self._start_async_functions(base_env, log_dir)
            listeners.insert(0, ("public", "public", self.options.ports.public))
        for name, ingress, port in listeners:
            # One process serves every function of the ingress: it gets the largest thread
            # count and database pool among them, as that function would in Cloud Run.
            functions = catalogue.http_functions(ingress)
            env = {
                **base_env,
                **upstreams,
                "HALO_GATEWAY_INGRESS": ingress,
                "THREADS": str(max(f.sizing.threads for f in functions)),
                "DB_POOL_SIZE": str(max(f.db_pool["size"] for f in functions)),
                "DB_POOL_OVERFLOW": str(max(f.db_pool["overflow"] for f in functions)),
            }
            self.servers[name] = FunctionServer(name, port, gateway, env, log_dir)
        sweeper = catalogue["presence-sweeper"]
        self.servers["sweeper"] = FunctionServer(
            "sweeper",
            self.options.ports.sweeper,
            [
                "--source",
                str(REPO_ROOT / "functions" / sweeper.source / "main.py"),
                "--target",
                sweeper.entry_point,
                "--signature-type",
                "cloudevent",
            ],
            {**base_env, "THREADS": "2"},
            log_dir,
        )
        for entry in catalogue.domain_event_functions():
            self.servers[entry.name] = FunctionServer(
                entry.name,
                self.options.ports.notifier,
                [
                    "--source",
                    str(REPO_ROOT / "functions" / entry.source / "main.py"),
                    "--target",
                    entry.entry_point,
                    "--signature-type",
                    "cloudevent",
                ],
                {**base_env, "THREADS": str(entry.sizing.threads)},
                log_dir,
            )
        for server in self.servers.values():
            server.start()

    def _start_async_functions(self, base_env: dict[str, str], log_dir: Path) -> dict[str, str]:
        """Async functions (the event streams) run in their own process, as Cloud Run runs
        them (functions-framework's ASGI mode, uvicorn); the gateway proxies their paths to
        the upstream URLs returned here (one environment variable per function)."""
        upstreams: dict[str, str] = {}
        for entry in load_catalogue().http_functions():
            if not is_async_entry_point(entry):
                continue
            port = self.options.ports.events or free_port()
            argv, env = _own_process(entry, base_env)
            self.servers[entry.name] = FunctionServer(entry.name, port, argv, env, log_dir)
            upstreams[upstream_variable(entry.name)] = self.servers[entry.name].url
        return upstreams

    def _start_instances(self, base_env: dict[str, str], log_dir: Path) -> None:
        """Each public function as `instances[name]` processes of its own (sized as the
        catalogue sizes it), and the balancer on the public port in front of them."""
        backends: dict[str, list[str]] = {}
        for entry in load_catalogue().http_functions("public"):
            argv, env = _own_process(entry, base_env)
            for i in range(self.options.instances.get(entry.name, 1)):
                server = FunctionServer(f"{entry.name}-{i}", free_port(), argv, env, log_dir)
                self.instances.setdefault(entry.name, []).append(server)
                self.servers[f"{entry.name}-{i}"] = server
                backends.setdefault(entry.name, []).append(f"{LOOPBACK}:{server.port}")
        self.servers["public"] = BalancerServer(
            self.options.ports.public, backends, base_env, log_dir
        )

    def sweep_now(self) -> int:
        """Deliver one Scheduler → Pub/Sub → push CloudEvent to the sweeper; its status."""
        headers, body = pubsub_cloud_event(
            json.dumps({"source": "devstack"}).encode(), PROJECT_ID, SWEEP_TOPIC
        )
        request = urllib.request.Request(self.sweeper_url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def _start_sweeper_loop(self) -> None:
        interval = self.options.sweep_interval_s
        if interval <= 0:
            return

        def loop() -> None:
            while not self._stop_sweeping.wait(interval):
                # An OSError means the sweeper is restarting; the next tick retries.
                with contextlib.suppress(OSError):
                    self.sweep_now()

        self._sweeper_thread = threading.Thread(target=loop, name="sweeper-loop", daemon=True)
        self._sweeper_thread.start()

    def stop(self) -> None:
        self._stop_sweeping.set()
        for server in self.servers.values():
            server.stop()
        if self.xendit is not None:
            self.xendit.stop()
        if self.fcm is not None:
            self.fcm.stop()
        self.emulator.stop()
        if self.valkey is not None:
            self.valkey.stop()
        if self.postgres is not None:
            self.postgres.stop()


def parse_instances(text: str) -> dict[str, int]:
    """`"pairing=3,presence=2"` → {"pairing": 3, "presence": 2}, names checked against the
    catalogue's public functions."""
    public = {entry.name for entry in load_catalogue().http_functions("public")}
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.partition("=")
        if name not in public or not count.isdigit() or int(count) < 1:
            raise ValueError(f"{part!r}: want <public function>=<count ≥ 1>, one of {public}")
        counts[name] = int(count)
    return counts


def _inherited_env() -> dict[str, str]:
    import os

    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def chat_keyring(data_dir: Path) -> dict[str, str]:
    """The local stack's chat keyring: one random key per data directory, made on first use
    and kept there (mode 0600), never committed, so local messages stay readable across
    restarts of the same stack (production: the CHAT_KEYS secret, docs/chat.md)."""
    from shared.chat_crypto import new_key_entry

    path = data_dir / "chat-keys"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_entry("local1"))
    entries = path.read_text().strip()
    active = entries.split(",")[-1].split(":", 1)[0]
    return {"CHAT_KEYS": entries, "CHAT_ACTIVE_KEY_ID": active}


def _own_process(
    entry: FunctionEntry, base_env: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """functions-framework's arguments and environment for one function in a process of its
    own, sized as the catalogue sizes that function on Cloud Run."""
    argv = ["--source", str(REPO_ROOT / "functions" / entry.source / "main.py")]
    env = {
        **base_env,
        "THREADS": str(entry.sizing.threads),
        "DB_POOL_SIZE": str(entry.db_pool["size"]),
        "DB_POOL_OVERFLOW": str(entry.db_pool["overflow"]),
    }
    return [*argv, "--target", entry.entry_point], env
