"""Per-caller rate limits, shared by every instance through Valkey.

Built on the `limits` library's moving-window strategy over its Redis storage, which runs
its own Lua scripts on the process's existing Valkey connection pool (no second pool). A
limit is written in `limits`' notation ("30/minute", "5/second;100/hour") and comes from
configuration, so each use reads:

    ratelimit.hit("stream-tickets", caller_key, get_config().stream_ticket_rate)

which returns, or raises `RateLimited` (→ `429 rate_limited` with `Retry-After`, the
seconds until the oldest counted hit leaves the window). Keys: `ratelimit:LIMITER/<name>/<caller>/…`
in Valkey, expiring with their window (docs/valkey-keys.md). If Valkey is unreachable the
error propagates and the request is a `503` like any other Valkey outage: a limiter that
waved requests through during an outage would be no limit.
"""

from __future__ import annotations

import math
import threading
import time
from functools import lru_cache

import redis
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from shared import valkey
from shared.errors import RateLimited

KEY_PREFIX = "ratelimit"

_lock = threading.Lock()
_bound: tuple[redis.Redis, MovingWindowRateLimiter] | None = None


def _limiter() -> MovingWindowRateLimiter:
    """The limiter over the current Valkey client's pool (rebuilt if tests swap clients)."""
    global _bound
    current = valkey.client()
    bound = _bound
    if bound is None or bound[0] is not current:
        with _lock:
            storage = RedisStorage(
                "redis://", connection_pool=current.connection_pool, key_prefix=KEY_PREFIX
            )
            bound = _bound = (current, MovingWindowRateLimiter(storage))
    return bound[1]


@lru_cache(maxsize=64)
def _items(rate: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rate))


def hit(name: str, caller: str, rate: str) -> None:
    """Count one request of `caller` against limit `name`; `RateLimited` when over `rate`."""
    limiter = _limiter()
    for item in _items(rate):
        if not limiter.hit(item, name, caller):
            reset_at = limiter.get_window_stats(item, name, caller).reset_time
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise RateLimited(retry_after_s=retry_after, limit=str(item))
