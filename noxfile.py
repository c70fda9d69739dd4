"""Developer tasks. `nox -s dev` runs the local stack; `nox -s tests` runs the test suite.

Both start everything they need themselves (embedded PostgreSQL and Valkey from wheels, the
Firebase Auth emulator from npm) on a machine with only Python 3.11+, node/npm and apt.
"""

from __future__ import annotations

import os
import shutil

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", "terraform"]


def _install(session: nox.Session, *extras: str) -> None:
    target = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", target)


def _install_emulator(session: nox.Session) -> None:
    """firebase-tools (npm) before anything starts, so no test timeout covers an install:
    once per user, into ~/.cache/halo-bestie/firebase-tools-<pinned version>."""
    session.run("python", "-m", "devstack.firebase_emulator", "install")


@nox.session
def dev(session: nox.Session) -> None:
    """Run the whole local stack (Ctrl-C stops it)."""
    _install(session, "local")
    _install_emulator(session)
    session.run("python", "-m", "devstack", *session.posargs)


CHROMIUM = os.environ.get("HALO_CHROMIUM", "/usr/bin/chromium")


def _ensure_chromium(session: nox.Session) -> None:
    """The browser tests drive Debian's Chromium (Playwright downloads no browser here).
    Installed with apt-get when we are root; otherwise a clear failure, never a skip."""
    if os.path.exists(CHROMIUM):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=env)
        session.run("apt-get", "install", "-y", "-qq", "chromium", external=True, env=env)
        return
    session.error(
        f"{CHROMIUM} is missing and the browser tests need it: run "
        "`sudo apt-get install -y chromium` (or set HALO_CHROMIUM to a Chromium binary)."
    )


def _runs_browser_tests(paths: list[str]) -> bool:
    return not paths or any(
        p.rstrip("/") in ("tests", ".") or p.startswith("tests/browser") for p in paths
    )


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite against real PostgreSQL, Valkey, the Firebase Auth emulator and, for
    browser access, a real headless Chromium."""
    _install(session, "local", "test")
    _install_emulator(session)
    if _runs_browser_tests([a for a in session.posargs if not a.startswith("-")]):
        _ensure_chromium(session)
    session.run("python", "-m", "pytest", *(session.posargs or ["tests"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy, both clean."""
    _install(session, "local", "test", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "shared", "functions", "devstack", "bench", "simulate")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: writes bench/results/latest.json and prints a table."""
    _install(session, "local", "test")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session
def simulate(session: nox.Session) -> None:
    """Simulated mitras and clients on the local stack: live view, JSON summary in
    simulate/results/latest.json, invariants checked (non-zero exit if one fails)."""
    _install(session, "local", "test")
    session.run("python", "-m", "simulate", *session.posargs)


@nox.session
def terraform(session: nox.Session) -> None:
    """Offline Terraform checks: fmt (when terraform is on PATH), HCL invariant tests, checkov."""
    terraform_bin = shutil.which("terraform")
    if terraform_bin:
        session.run(
            terraform_bin, "fmt", "-check", "-recursive", "-diff", "terraform", external=True
        )
    else:
        session.warn(
            "terraform is not on PATH: `terraform fmt -check` SKIPPED and the catalogue "
            "module is not evaluated (the parsed-HCL tests and checkov still run)"
        )
    session.install(
        "pytest>=8.3,<10", "pytest-timeout>=2.3,<3", "python-hcl2>=8.1,<9", "PyYAML>=6.0,<7"
    )
    # --confcutdir keeps the application's tests/conftest.py (the whole stack) out of this venv.
    session.run(
        "python",
        "-m",
        "pytest",
        "--confcutdir=tests/terraform",
        *(session.posargs or ["tests/terraform"]),
    )
    session.notify("terraform_checkov")


@nox.session
def terraform_checkov(session: nox.Session) -> None:
    """checkov over terraform/, in its own venv (its bundled hcl2 clashes with python-hcl2).
    Pinned: new checkov releases add checks."""
    session.install("checkov==3.3.30")
    session.run(
        "checkov",
        "--directory",
        "terraform",
        "--framework",
        "terraform",
        "--quiet",
        "--compact",
        "--skip-download",
    )
