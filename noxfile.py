"""Developer tasks. `nox -s dev` runs the local stack; `nox -s tests` runs the test suite.

Both start everything they need themselves (embedded PostgreSQL and Valkey from wheels, the
Firebase Auth emulator from npm) on a machine with only Python 3.11+, node/npm and apt.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", "terraform"]


def _install(session: nox.Session, *extras: str) -> None:
    target = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", target)


@nox.session
def dev(session: nox.Session) -> None:
    """Run the whole local stack (Ctrl-C stops it)."""
    _install(session, "local")
    session.run("python", "-m", "devstack", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite against real PostgreSQL, Valkey and the Firebase Auth emulator."""
    _install(session, "local", "test")
    session.run("python", "-m", "pytest", *(session.posargs or ["tests"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy, both clean."""
    _install(session, "local", "test", "lint")
    session.run("ruff", "check", ".")
    session.run("mypy", "shared", "functions", "devstack")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: writes bench/results/latest.json and prints a table."""
    _install(session, "local", "test")
    session.run("python", "-m", "bench", *session.posargs)
