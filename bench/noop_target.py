"""Bench-only functions-framework target: the real presence entry point and a no-op, served
by one dispatcher in the same server process, so both are measured on the same server with
the same client. Also counts, in this process, the Valkey round trips (each
`send_packed_command` is one request sent, a pipeline being one) and the SQL statements
and pool checkouts, read back at `GET /__bench/counters`.

    functions-framework --source bench/noop_target.py --target dispatch
"""

from __future__ import annotations

import json
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


def _count(name: str) -> None:
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


@functions_framework.http
def dispatch(request: Request) -> Response:
    if request.path == "/__bench/noop":
        return Response(status=204)
    if request.path == "/__bench/api-noop":
        return pipeline_only(request)
    if request.path == "/__bench/counters":
        with _lock:
            return Response(json.dumps(_counts), mimetype="application/json")
    return cast(Response, presence(request))
