"""Fixtures for the operations tests: buyers and packages (payments), operators (admin),
and the function servers' own stdout, where the countable log signals are written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.admin.conftest import admin, make_operator, root, viewer  # noqa: F401
from tests.pairing.conftest import (  # noqa: F401
    client_with_credits,
    nobody_online,
    online_mitras,
    pairing_request,
)
from tests.payments.conftest import make_buyer, package  # noqa: F401


class ServerLog:
    """One function server's stdout (JSON lines), read from a position onwards."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size if path.exists() else 0

    def entries(self) -> list[dict[str, Any]]:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            lines = handle.read().decode(errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # gunicorn's own lines
            if isinstance(entry, dict):
                found.append(entry)
        return found

    def signals(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in self.entries()
            if e.get("event") == event and all(e.get(k) == v for k, v in match.items())
        ]


@pytest.fixture
def server_log(stack) -> Callable[[str], ServerLog]:  # type: ignore[no-untyped-def]
    """`server_log("public" | "admin" | "sweeper")`: what that server logs from now on."""

    def open_log(name: str) -> ServerLog:
        return ServerLog(stack.data_dir / "logs" / f"{name}.log")

    return open_log
