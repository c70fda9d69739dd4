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
from typing import TYPE_CHECKING, Any

from shared import valkey
from shared.errors import RateLimited
from shared.local_rate import LocalLimiter
from shared.store.live import keys

if TYPE_CHECKING:
    from flask import Request
    from limits import RateLimitItem
    from limits.strategies import MovingWindowRateLimiter

KEY_PREFIX = keys.RATE_LIMIT_PREFIX

_lock = threading.Lock()
_bound: tuple[Any, MovingWindowRateLimiter] | None = None


def _limiter() -> MovingWindowRateLimiter:
    """The limiter over the current Valkey client's pool (rebuilt if tests swap clients)."""
    global _bound
    # `limits` is imported on first use: the heartbeat (the only route of most presence
    # instances) never needs it.
    from limits.storage import RedisStorage
    from limits.strategies import MovingWindowRateLimiter

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
    from limits import parse_many

    return tuple(parse_many(rate))


def hit(name: str, caller: str, rate: str) -> None:
    """Count one request of `caller` against limit `name`; `RateLimited` when over `rate`."""
    _hit(_limiter(), name, caller, rate)


# The heartbeat's flood guard: per process, in memory, so the hot path keeps its single
# Valkey round trip. N instances admit at most N × the limit in total, which still caps a
# flooding client (Cloud Run spreads one client's requests over few instances) at a
# harmless rate; the exact shared limits stay on the routes that change state. A fixed
# window keeps one counter per caller (a moving window keeps every hit's time); see
# shared.local_rate for why it is not `limits`' in-memory storage.
_local = LocalLimiter()


def hit_local(name: str, caller: str, rate: str) -> None:
    """`hit`, counted in this process only (no Valkey round trip)."""
    _local.hit(name, caller, rate)


def source_address(request: Request) -> str:
    """The caller's address behind Google's load balancers, which append
    `<client>, <load balancer>` to X-Forwarded-For (anything before them is the client's own
    claim and ignored); the socket's peer when no balancer is in front (local stack)."""
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) >= 2:
        return hops[-2][:64]
    return (request.remote_addr or "unknown")[:64]


def is_loopback(address: str) -> bool:
    """The local stack's own callers (tests, the dev gateway) share one loopback address, so
    a per-source limit there would throttle every test at once; production traffic always
    arrives through a load balancer with a real client address."""
    return address in ("127.0.0.1", "::1", "localhost")


def _hit(limiter: MovingWindowRateLimiter, name: str, caller: str, rate: str) -> None:
    for item in _items(rate):
        if not limiter.hit(item, name, caller):
            reset_at = limiter.get_window_stats(item, name, caller).reset_time
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise RateLimited(retry_after_s=retry_after, limit=str(item))
