"""Fixtures of the browser-access tests: the page origin on the test stack's allow-lists, the
system Chromium, and SSE reading over plain HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.admin.conftest import make_operator, root  # noqa: F401 (fixtures used here)
from tests.browser.harness import OriginServer, chromium
from tests.conftest import BROWSER_ORIGIN_PORT


@pytest.fixture(scope="session")
def origin(stack) -> Iterator[OriginServer]:  # type: ignore[no-untyped-def]
    server = OriginServer(BROWSER_ORIGIN_PORT).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def events_until_end(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    on_open: Callable[[], None] | None = None,
    max_seconds: float | None = None,
    read_timeout: float = 15.0,
) -> tuple[int, list[tuple[str, Any]]]:
    """Open a stream and read it until the server ends it (or `max_seconds` passed):
    (status, [(event, data)…]). `on_open` runs once the response headers arrived;
    `read_timeout` bounds the wait for each line (keep-alives count)."""
    timeout = httpx.Timeout(10.0, read=read_timeout)
    frames: list[tuple[str, Any]] = []
    with (
        httpx.Client(timeout=timeout) as http,
        http.stream("GET", url, headers=headers) as response,
    ):
        if on_open is not None:
            on_open()
        if response.status_code != 200:
            response.read()
            return response.status_code, frames
        stop_at = time.monotonic() + max_seconds if max_seconds is not None else None
        event, data = "message", ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif line == "" and data:
                frames.append((event, json.loads(data)))
                event, data = "message", ""
            if stop_at is not None and time.monotonic() >= stop_at:
                break
    return 200, frames
