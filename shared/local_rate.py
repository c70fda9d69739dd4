"""A per-process fixed-window counter for the heartbeat's flood guard (`ratelimit.hit_local`).

The `limits` library's in-memory fixed window did this before; on the hot path it cost a
storage lock, a key string per window and an expiry timer thread, and importing `limits`
(with its async and Redis storages) put ~60 ms on every presence cold start. This keeps the
same rule — a window opens at a caller's first hit and lasts the rate's period; a hit over
the amount answers 429 with the seconds until the window closes — and reads the same
notation ("10/minute", "5 per second;100/hour", "2/10 seconds"); a rate it does not read is
handed to `limits` itself, so a notation Config accepts always works.
"""

from __future__ import annotations

import math
import re
import threading
import time
from functools import lru_cache

from shared.errors import RateLimited

_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "month": 86400 * 30,
    "year": 86400 * 30 * 12,
}
_ONE = re.compile(r"^\s*([0-9]+)\s*(?:/|\s+per\s+)\s*([0-9]+)?\s*([a-z]+?)s?\s*$")
_SEPARATORS = re.compile(r"[,;|]")
_PURGE_AT = 10_000  # windows kept before the expired ones are dropped

# (amount, period in seconds, the item as `limits` names it: "10 per 1 minute") per item
Rate = tuple[tuple[int, int, str], ...]


@lru_cache(maxsize=64)
def parse(rate: str) -> Rate:
    items = []
    for part in _SEPARATORS.split(rate):
        match = _ONE.match(part)
        unit = match.group(3) if match else ""
        if match is None or unit not in _SECONDS:
            return _parse_with_limits(rate)
        amount, multiples = int(match.group(1)), int(match.group(2) or 1)
        items.append((amount, multiples * _SECONDS[unit], f"{amount} per {multiples} {unit}"))
    return tuple(items)


def _parse_with_limits(rate: str) -> Rate:
    from limits import parse_many

    return tuple((item.amount, item.get_expiry(), str(item)) for item in parse_many(rate))


class LocalLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (name, caller, item index) → [window end (monotonic s), hits in the window]
        self._windows: dict[tuple[str, str, int], list[float]] = {}

    def hit(self, name: str, caller: str, rate: str) -> None:
        """Count one hit; `RateLimited` when any item of `rate` is over its amount."""
        now = time.monotonic()
        with self._lock:
            if len(self._windows) > _PURGE_AT:
                self._purge(now)
            for index, (amount, period, label) in enumerate(parse(rate)):
                window = self._windows.get((name, caller, index))
                if window is None or now >= window[0]:
                    window = self._windows[(name, caller, index)] = [now + period, 0]
                window[1] += 1
                if window[1] > amount:
                    retry_after = max(1, math.ceil(window[0] - now))
                    raise RateLimited(retry_after_s=retry_after, limit=label)

    def _purge(self, now: float) -> None:
        for key in [key for key, window in self._windows.items() if now >= window[0]]:
            del self._windows[key]
