"""Bench-only target served in functions-framework's ASGI mode (uvicorn, one event loop):
the other server model's no-op, its round-trip floor, and a sketch of a heartbeat on the
loop. bench/presence.py measures them against each other in the same run, to show what an
asynchronous presence function would and would not change (docs/performance.md).

    functions-framework --source bench/asgi_noop_target.py --target dispatch

The sketch is not the product's heartbeat: it skips the route pipeline (request id, CORS,
routing, error table) and the UID-cache miss path, so it is the least an asynchronous
heartbeat would cost — the token check (a cache hit), the flood guard and the heartbeat's
script over redis-py's asyncio connection. (It reads the product settings as the heartbeat
does, from the per-process cache; the refresh every few seconds is a blocking read a real
asynchronous heartbeat would move off the loop.)
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import Response

from shared import ratelimit, valkey
from shared.clock import now_ms
from shared.config import get_config
from shared.domain import presence, settings
from shared.identity.firebase import verify_id_token
from shared.store.live import keys
from shared.store.live.presence import UID_CACHE_TTL_S
from shared.web import event_hub

_PING, _PONG = b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"

# Idle connections, one request at a time each: a request takes one (or opens one) and
# gives it back after its reply, so concurrent requests never share a connection.
_idle_sockets: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
_idle_connections: list[Any] = []


async def _valkey_round_trip() -> None:
    if _idle_sockets:
        reader, writer = _idle_sockets.pop()
    else:
        url = urlsplit(get_config().valkey_url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port or 6379)
    writer.write(_PING)
    if await reader.readexactly(len(_PONG)) != _PONG:
        raise RuntimeError("Valkey did not answer PONG")
    _idle_sockets.append((reader, writer))


async def _heartbeat_script(uid: str) -> str:
    if _idle_connections:
        connection = _idle_connections.pop()
    else:
        # Built as the events function's asyncio connections are (its hub's pool settings).
        pool = event_hub.hub().client().connection_pool
        connection = pool.connection_class(**pool.connection_kwargs)
    now = now_ms()
    cutoff = presence.fresh_cutoff_ms(settings.current(), now)
    script = valkey.hot_script("presence_heartbeat")  # loaded by the real server's beats
    # The heartbeat's arguments on a UID-cache hit (shared.store.live.presence.beat).
    arguments = (keys.uid_cache(uid), *keys.PRESENCE, now, cutoff, "", UID_CACHE_TTL_S, 0, 1, 0, "")
    await connection.send_command("EVALSHA", script.sha, 1 + len(keys.PRESENCE), *arguments)
    reply = await connection.read_response()
    _idle_connections.append(connection)
    return str(reply[0])


@functions_framework.aio.http
async def dispatch(request: Request) -> Response:
    path = request.url.path
    if path == "/__bench/valkey-round-trip":
        await _valkey_round_trip()
    elif path == "/__bench/heartbeat-sketch":
        user = verify_id_token(request.headers["Authorization"].removeprefix("Bearer "))
        ratelimit.hit_local("heartbeat", user.uid, get_config().heartbeat_rate)
        if await _heartbeat_script(user.uid) != "ok":
            return Response(status_code=409)
    return Response(status_code=204)
