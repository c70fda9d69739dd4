"""Bench-only functions-framework target: the real presence entry point, a no-op, the
round-trip floor (the no-op plus one Valkey PING on a raw socket) and issue 19's reference
handler (the no-op plus one ZADD through redis-py's pool, no auth), served by one dispatcher
in the same server process, so all are measured on the same server with the same client.
Also counts, in this process, the Valkey round trips (each
`send_packed_command` is one request sent, a pipeline being one) and the SQL statements
and pool checkouts, once `POST /__bench/counters` has started the count (until then a
request pays no lock for it), read back at `GET /__bench/counters`.

    functions-framework --source bench/noop_target.py --target dispatch
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any, cast

import functions_framework
import redis.connection
import sqlalchemy as sa
from flask import Request, Response
from sqlalchemy.pool import Pool

from functions.presence.main import presence
from shared.identity.policies import OPEN
from shared.web import Api, Call

_lock = threading.Lock()
_counts = {"valkey_roundtrips": 0, "sql_statements": 0, "sql_checkouts": 0}
_counting = threading.Event()


def _count(name: str) -> None:
    if _counting.is_set():
        with _lock:
            _counts[name] += 1


_send_packed_command = redis.connection.AbstractConnection.send_packed_command


def _counted_send(self: Any, command: Any, check_health: bool = True) -> None:
    _count("valkey_roundtrips")
    _send_packed_command(self, command, check_health)


redis.connection.AbstractConnection.send_packed_command = _counted_send
sa.event.listen(sa.engine.Engine, "before_cursor_execute", lambda *_args: _count("sql_statements"))
sa.event.listen(Pool, "checkout", lambda *_args: _count("sql_checkouts"))


# The shared route pipeline alone (request id, routing, open auth, empty 204), to show how
# a heartbeat's cost splits between the pipeline and the presence work.
pipeline_only = Api("bench", title="bench")


@pipeline_only.post("/__bench/api-noop", auth=OPEN, status=204)
def api_noop(call: Call[None]) -> None:
    return None


# The floor of any endpoint whose answer needs Valkey: the no-op plus one PING, written and
# read on a plain blocking socket of the request thread — no auth, no script, no client
# library, nothing a heartbeat could leave out. What it costs beyond the no-op is the round
# trip itself in this server model: the blocking read hands the interpreter lock to another
# request thread and waits to get it back.
_floor = threading.local()
_PING, _PONG = b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"


def _valkey_round_trip() -> None:
    connection: socket.socket | None = getattr(_floor, "socket", None)
    if connection is None:
        from urllib.parse import urlsplit

        from shared.config import get_config

        url = urlsplit(get_config().valkey_url)
        if url.scheme != "redis":
            raise RuntimeError("the round-trip floor speaks plain TCP (redis://) only")
        connection = socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379))
        _floor.socket = connection
    connection.sendall(_PING)
    if connection.recv(len(_PONG)) != _PONG:
        raise RuntimeError("Valkey did not answer PONG")


def _one_zadd() -> None:
    from shared import valkey

    valkey.client().zadd("bench:one-zadd", {"bench": 1})


@functions_framework.http
def dispatch(request: Request) -> Response:
    if request.path == "/__bench/noop":
        return Response(status=204)
    if request.path == "/__bench/valkey-round-trip":
        _valkey_round_trip()
        return Response(status=204)
    if request.path == "/__bench/one-zadd":
        _one_zadd()
        return Response(status=204)
    if request.path == "/__bench/api-noop":
        return pipeline_only(request)
    if request.path == "/__bench/counters":
        if request.method == "POST":
            _counting.set()
        with _lock:
            return Response(json.dumps(_counts), mimetype="application/json")
    return cast(Response, presence(request))
