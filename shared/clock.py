"""The one clock the live state is measured by."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Epoch milliseconds on this server's clock. Times are passed into the Lua scripts
    rather than read there with TIME, so scripts stay deterministic (replication-safe on
    every server version) and tests can pass any instant."""
    return time.time_ns() // 1_000_000
