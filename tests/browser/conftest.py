"""Fixtures of the browser-access tests: the page origin on the test stack's allow-lists, the
system Chromium, and SSE reading over plain HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

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
    url: str, *, headers: dict[str, str] | None = None, read_timeout: float = 15.0
) -> tuple[int, list[tuple[str, Any]]]:
    """Open a stream and read it until the server ends it: (status, [(event, data)…]).
    `read_timeout` bounds the wait for each frame (keep-alives count as frames)."""
    timeout = httpx.Timeout(10.0, read=read_timeout)
    with httpx.Client(timeout=timeout) as http, connect_sse(http, "GET", url, headers=headers) as source:
        if source.response.status_code != 200:
            source.response.read()
            return source.response.status_code, []
        frames = []
        for sse in source.iter_sse():
            try:
                data = json.loads(sse.data)
            except ValueError:
                data = sse.data
            frames.append((sse.event, data))
        return 200, frames
