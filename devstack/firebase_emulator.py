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

FIREBASE_TOOLS_MAJOR = 15
FIREBASE_TOOLS_SPEC = f"firebase-tools@{FIREBASE_TOOLS_MAJOR}"
"""Pinned to a major: 15.34.2 was current (`npm view firebase-tools version`) when written."""
DEFAULT_PROJECT_ID = "demo-halo-bestie"
"""The `demo-` prefix makes firebase-tools skip every lookup of a real Firebase project."""

_NPM_INSTALL_TIMEOUT_S = 900.0
_log = logging.getLogger(__name__)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Serialise installs between parallel test workers sharing one tools dir."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _installed_major(tools_dir: Path) -> int | None:
    package_json = tools_dir / "node_modules" / "firebase-tools" / "package.json"
    try:
        version = str(json.loads(package_json.read_text())["version"])
        return int(version.split(".")[0])
    except (OSError, ValueError, KeyError):
        return None


def install_firebase_tools(tools_dir: Path) -> Path:
    """Return the `firebase` CLI under `tools_dir`, npm-installing it on first use.

    A local prefix (not `npm -g`) keeps the ~300 MB install out of the system and lets CI cache
    one directory. The first install takes about a minute and needs the npm registry; later
    runs reuse it offline.
    """
    cli = tools_dir / "node_modules" / ".bin" / "firebase"
    with _exclusive_lock(tools_dir / ".install.lock"):
        if cli.exists() and _installed_major(tools_dir) == FIREBASE_TOOLS_MAJOR:
            return cli
        npm = shutil.which("npm")
        if npm is None:
            raise ServerStartError(
                "the Firebase Auth emulator needs Node.js >= 20 with npm (or `firebase` on PATH)"
            )
        log_path = tools_dir / "npm-install.log"
        _log.warning(
            "Installing %s into %s (first run only, about a minute)", FIREBASE_TOOLS_SPEC, tools_dir
        )
        argv = [
            npm,
            "install",
            "--prefix",
            str(tools_dir),
            "--no-audit",
            "--no-fund",
            "--no-update-notifier",
            "--loglevel=error",
            FIREBASE_TOOLS_SPEC,
        ]
        with log_path.open("wb") as log:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=_NPM_INSTALL_TIMEOUT_S,
                check=False,
            )
        if result.returncode != 0 or not cli.exists():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            raise ServerStartError(f"`{' '.join(argv)}` failed (exit {result.returncode}):\n{tail}")
        return cli


def find_firebase_cli(tools_dir: Path) -> Path:
    """Use a `firebase` already on PATH, else our own pinned install under `tools_dir`."""
    on_path = shutil.which("firebase")
    return Path(on_path) if on_path else install_firebase_tools(tools_dir)


class FirebaseAuthEmulator(ManagedServer):
    """The Auth emulator on 127.0.0.1:`port`, for one (demo) project.

    `work_dir` holds the per-port run folder `firebase-auth-emulator/<port>/` (`firebase.json`,
    `emulator.log`, a private CLI config and TMPDIR). `tools_dir` (default
    `work_dir/.local/firebase-tools`) holds the npm install and is worth sharing between runs.
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
        self.tools_dir = Path(tools_dir or self.work_dir / ".local" / "firebase-tools")

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

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
