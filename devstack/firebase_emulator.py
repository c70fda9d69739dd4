"""The Firebase Auth emulator (npm `firebase-tools`) as a child process on 127.0.0.1.

The Auth emulator is plain Node.js (no Java, unlike Firestore/Database/Pub/Sub emulators) and
runs fully offline once firebase-tools is installed. firebase-admin talks to it when
`FIREBASE_AUTH_EMULATOR_HOST` is set and then accepts its unsigned (alg "none") ID tokens.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from devstack.servers import LOOPBACK, ChildProcess, ManagedServer, ServerStartError, free_port

FIREBASE_TOOLS_VERSION = "15.34.2"
"""Pinned exactly, so the per-user cache below has a stable key; bump it deliberately."""
FIREBASE_TOOLS_SPEC = f"firebase-tools@{FIREBASE_TOOLS_VERSION}"
DEFAULT_PROJECT_ID = "demo-halo-bestie"
"""The `demo-` prefix makes firebase-tools skip every lookup of a real Firebase project."""
TOOLS_DIR_ENV = "HALO_FIREBASE_TOOLS_DIR"
"""Set to install (and look for) firebase-tools in that directory instead."""
REPO_ROOT = Path(__file__).resolve().parent.parent
REPO_TOOLS_DIR = REPO_ROOT / ".local" / "firebase-tools"
"""Where the dev stack installed firebase-tools before the per-user cache; still used when it
holds the pinned version, and as the install target when the cache is not writable."""

_NPM_INSTALL_TIMEOUT_S = 900.0
_HELPER_PORT_ATTEMPTS = 3
_log = logging.getLogger(__name__)


def cache_tools_dir() -> Path:
    """The per-user install shared by every clone: `~/.cache/halo-bestie/firebase-tools-<v>`
    (or under `$XDG_CACHE_HOME`)."""
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "halo-bestie" / f"firebase-tools-{FIREBASE_TOOLS_VERSION}"


def default_tools_dir() -> Path:
    """Where firebase-tools lives when nobody says otherwise: `$HALO_FIREBASE_TOOLS_DIR`;
    else the clone's `.local/firebase-tools` if it already holds the pinned version; else
    the per-user cache, or `.local/firebase-tools` when the cache cannot be written."""
    explicit = os.environ.get(TOOLS_DIR_ENV)
    if explicit:
        return Path(explicit)
    if _installed_version(REPO_TOOLS_DIR) == FIREBASE_TOOLS_VERSION:
        return REPO_TOOLS_DIR
    cache = cache_tools_dir()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return REPO_TOOLS_DIR
    return cache if os.access(cache.parent, os.W_OK) else REPO_TOOLS_DIR


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Serialise installs between parallel runs (test workers, two clones) sharing a dir."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _installed_version(tools_dir: Path) -> str | None:
    package_json = tools_dir / "node_modules" / "firebase-tools" / "package.json"
    try:
        return str(json.loads(package_json.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def _cli(tools_dir: Path) -> Path:
    return tools_dir / "node_modules" / ".bin" / "firebase"


def install_firebase_tools(tools_dir: Path | None = None) -> Path:
    """Return the `firebase` CLI under `tools_dir` (default: `default_tools_dir()`),
    npm-installing the pinned version on first use.

    The install goes into a scratch directory beside the target and is renamed into place
    only when npm succeeded, so an interrupted install never looks installed; a lock file
    beside it keeps parallel runs from installing twice. `--omit=optional` skips `re2`
    (an optional dependency of superstatic, the Hosting emulator's server) whose native
    build is most of a cold install; the Auth emulator does not use it (README)."""
    tools_dir = Path(tools_dir or default_tools_dir())
    cli = _cli(tools_dir)
    if cli.exists() and _installed_version(tools_dir) == FIREBASE_TOOLS_VERSION:
        return cli
    with _exclusive_lock(tools_dir.with_name(tools_dir.name + ".lock")):
        if cli.exists() and _installed_version(tools_dir) == FIREBASE_TOOLS_VERSION:
            return cli  # another run installed it while we waited
        npm = shutil.which("npm")
        if npm is None:
            raise ServerStartError(
                "the Firebase Auth emulator needs Node.js >= 20 with npm (or `firebase` on PATH)"
            )
        scratch = tools_dir.with_name(f"{tools_dir.name}.partial-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        log_path = tools_dir.with_name(tools_dir.name + ".npm-install.log")
        _log.warning("Installing %s into %s (once per user)", FIREBASE_TOOLS_SPEC, tools_dir)
        argv = [
            npm,
            "install",
            "--prefix",
            str(scratch),
            "--omit=optional",
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            "--loglevel=error",
            FIREBASE_TOOLS_SPEC,
        ]
        try:
            with log_path.open("wb") as log:
                result = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=_NPM_INSTALL_TIMEOUT_S,
                    check=False,
                )
            if result.returncode != 0 or not _cli(scratch).exists():
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
                raise ServerStartError(
                    f"`{' '.join(argv)}` failed (exit {result.returncode}):\n{tail}"
                )
            # npm links .bin entries relatively, so the finished tree can move into place.
            shutil.rmtree(tools_dir, ignore_errors=True)
            scratch.rename(tools_dir)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return cli


def find_firebase_cli(tools_dir: Path | None = None) -> Path:
    """Use a `firebase` already on PATH, else our own pinned install (see
    `install_firebase_tools`)."""
    on_path = shutil.which("firebase")
    return Path(on_path) if on_path else install_firebase_tools(tools_dir)


class FirebaseAuthEmulator(ManagedServer):
    """The Auth emulator on 127.0.0.1:`port`, for one (demo) project.

    `work_dir` holds the per-port run folder `firebase-auth-emulator/<port>/` (`firebase.json`,
    `emulator.log`, a private CLI config and TMPDIR). `tools_dir` (default
    `default_tools_dir()`, the per-user cache) holds the npm install.
    """

    display_name = "Firebase Auth emulator"
    startup_timeout_s = 90.0

    def __init__(
        self,
        project_id: str = DEFAULT_PROJECT_ID,
        port: int = 9099,
        *,
        work_dir: Path,
        tools_dir: Path | None = None,
    ) -> None:
        super().__init__(port)
        self.project_id = project_id
        self.work_dir = Path(work_dir)
        self.tools_dir = Path(tools_dir) if tools_dir else None

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    def start(self) -> str:
        """Start; retried with fresh helper ports when the CLI finds its hub or logging port
        taken (`free_port` only says a port was free a moment ago: a busy machine running
        parallel stacks sometimes hands it to someone else before node binds it)."""
        for attempt in range(_HELPER_PORT_ATTEMPTS):
            try:
                return super().start()
            except ServerStartError as exc:
                if "port taken" not in str(exc) or attempt == _HELPER_PORT_ATTEMPTS - 1:
                    raise
                _log.warning("Auth emulator helper port taken; retrying with new ports")
        raise AssertionError("unreachable")

    @property
    def host_port(self) -> str:
        """The value for FIREBASE_AUTH_EMULATOR_HOST."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def client_env(self) -> dict[str, str]:
        """Environment that points firebase-admin (and our functions) at this emulator."""
        return {
            "FIREBASE_AUTH_EMULATOR_HOST": self.host_port,
            "GOOGLE_CLOUD_PROJECT": self.project_id,
        }

    @property
    def run_dir(self) -> Path:
        return self.work_dir / "firebase-auth-emulator" / str(self.port)

    @property
    def log_path(self) -> Path:
        return self.run_dir / "emulator.log"

    def _spawn(self) -> ChildProcess:
        cli = find_firebase_cli(self.tools_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        argv = [
            str(cli),
            "emulators:start",
            "--only",
            "auth",
            "--project",
            self.project_id,
            "--config",
            str(config),
        ]
        return ChildProcess(argv, log_path=self.log_path, env=self._offline_env(), cwd=self.run_dir)

    def _write_config(self) -> Path:
        """Pin every port the CLI opens (hub, logging too) to loopback and a free port.

        The defaults (4400/4500, hub also on [::1]) would collide between parallel emulators.
        """
        loopback = {"host": LOOPBACK}
        config = {
            "emulators": {
                "auth": {**loopback, "port": self.port},
                "hub": {**loopback, "port": free_port()},
                "logging": {**loopback, "port": free_port()},
                "ui": {"enabled": False},
                "singleProjectMode": True,
            }
        }
        path = self.run_dir / "firebase.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def _offline_env(self) -> dict[str, str]:
        """Keep the CLI from phoning home and from seeing the developer's own state.

        CI=1 skips the MOTD fetch, NO_UPDATE_NOTIFIER skips the npm version check, a private
        XDG_CONFIG_HOME hides any saved login and usage-tracking opt-in, and a private TMPDIR
        keeps the hub's `hub-<project>.json` locator away from other emulators of the project.
        """
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"FIREBASE_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"}
        }
        tmp_dir = self.run_dir / "tmp"
        tmp_dir.mkdir(exist_ok=True)
        env.update(
            CI="1",
            NO_UPDATE_NOTIFIER="1",
            XDG_CONFIG_HOME=str(self.run_dir / "config"),
            TMPDIR=str(tmp_dir),
        )
        return env

    def _is_ready(self, child: ChildProcess) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/", timeout=1.0) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def clear_accounts(self) -> None:
        """Delete every user of the project, between tests."""
        request = urllib.request.Request(
            f"{self.url}/emulator/v1/projects/{self.project_id}/accounts", method="DELETE"
        )
        with urllib.request.urlopen(request, timeout=10.0) as response:
            response.read()


def main(argv: list[str] | None = None) -> int:
    """`python -m devstack.firebase_emulator install`: install the pinned firebase-tools
    before anything needs it (the nox `tests` and `dev` sessions run it before pytest or
    the stack start, so no test timeout ever covers an npm install)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m devstack.firebase_emulator")
    parser.add_argument("command", choices=["install"])
    parser.parse_args(argv)
    started = time.monotonic()
    cli = find_firebase_cli()
    print(f"firebase CLI: {cli} ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
