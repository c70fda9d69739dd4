"""The request pipeline (shared/web/api.py) under functions-framework's ASGI mode (Starlette
and uvicorn): a function whose entry point is `@functions_framework.aio.http` serves its
route table with

    return await asgi.serve(api, request)

The pipeline itself does not change and has one home: the request becomes a werkzeug
request and `Api.__call__` runs on the bounded blocking pool (token verification and SQL
never block the loop), with the same route table, auth policies, body limits, error table,
CORS and `X-Request-Id`. An ordinary answer is sent as is; a stream route's `EventStream`
answer is then served on the loop (shared/web/event_streams.py).
"""

from __future__ import annotations

import io
import sys
from typing import Any

from flask import Request, Response
from starlette.requests import Request as AsgiRequest
from starlette.responses import Response as AsgiResponse
from starlette.types import Receive, Scope, Send

from shared.web import event_hub, event_streams
from shared.web.api import MAX_BODY_BYTES, Api


async def serve(api: Api, request: AsgiRequest) -> AsgiResponse:
    """The ASGI answer of `api` to `request`."""
    event_hub.hub()  # bound to this loop before a handler needs it from the pool
    body = await _body(request)
    answer: Response = await event_hub.blocking(api, Request(_environ(request, body)))
    if isinstance(answer, event_streams.EventStream):
        return _Streamed(answer)
    return _Sent(answer)


async def _body(request: AsgiRequest) -> bytes:
    """At most MAX_BODY_BYTES + 1 bytes, enough for the pipeline to refuse a larger body
    (413) without this process holding more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)


def _environ(request: AsgiRequest, body: bytes) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333)."""
    scope = request.scope
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        # WSGI carries the decoded path as latin-1 characters; werkzeug decodes it as UTF-8.
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
            continue
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _headers(answer: Response) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]


class _Sent(AsgiResponse):
    """An ordinary (buffered) answer of the pipeline (a Starlette response only in type:
    the pipeline already decided status, headers and body)."""

    def __init__(self, answer: Response) -> None:
        self._answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b"" if scope.get("method") == "HEAD" else self._answer.get_data()
        headers = [h for h in _headers(self._answer) if h[0] != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send(
            {"type": "http.response.start", "status": self._answer.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


class _Streamed(AsgiResponse):
    """A stream route's answer: headers now, frames as they come."""

    def __init__(self, answer: event_streams.EventStream) -> None:
        self._answer: event_streams.EventStream | None = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._answer
        assert answer is not None, "a stream is served once"
        headers = [h for h in _headers(answer) if h[0] != b"content-length"]
        if scope.get("method") == "HEAD":
            answer.discard()
            start = {"type": "http.response.start", "status": 200, "headers": headers}
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        status, plan = answer.status_code, answer.plan
        # The Flask response (its headers, its request's references) is not needed for the
        # hour the stream may last.
        self._answer = None
        del answer

        try:
            # The start goes through the middleware (it notes that the response started).
            await send({"type": "http.response.start", "status": status, "headers": headers})
            del headers  # ≈ 0.75 KB a stream otherwise holds for its life (tracemalloc)
            cycle = _uvicorn_cycle(receive)
            if cycle is not None:
                # Body messages past the start pass every middleware's send unchanged
                # (Starlette's and functions-framework's wrappers only note the start):
                # uvicorn's own send skips ≈ 5 coroutine calls per frame.
                send = cycle.send
            writer = _Wire(cycle) if cycle is not None and cycle.chunked_encoding else None

            async def send_bytes(chunk: bytes) -> None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

            await event_streams.pump(plan, send_bytes, receive, writer)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away mid-write; pump's cleanup already ran


def _uvicorn_cycle(receive: Receive) -> Any:
    """uvicorn's httptools request cycle behind `receive` (its bound method, passed down
    unwrapped by Starlette and functions-framework), or None for any other server."""
    cycle = getattr(receive, "__self__", None)
    if type(cycle).__module__ != "uvicorn.protocols.http.httptools_impl":
        return None
    return cycle


class _Wire:
    """A stream's direct writer on uvicorn's httptools protocol (event_hub.Wire): writes a
    frame as uvicorn's send writes a chunked body message — into the transport, unless the
    connection is gone or flow control paused writing (then False, and the stream's task
    sends it through uvicorn, which waits for the socket). Saves the stream task's wake, its
    step and the send chain per frame: the server's CPU per frame at 1,000 streams fell from
    83 to 12 µs in the same kind of run (docs/performance.md, "Event streams")."""

    __slots__ = ("_cycle", "_flow", "_transport")

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self._flow = cycle.flow
        self._transport = cycle.transport

    def __call__(self, frame: bytes) -> bool:
        if not frame:
            return True  # an empty chunk would end the response
        if self._cycle.disconnected or self._flow.write_paused or self._transport.is_closing():
            return False
        self._transport.write(_chunk(frame))
        return True

    def lost(self) -> bool:
        return bool(self._cycle.disconnected or self._transport.is_closing())


_last_chunk: tuple[bytes | None, bytes] = (None, b"")


def _chunk(frame: bytes) -> bytes:
    """`frame` as one HTTP/1.1 chunk, encoded once for every stream it fans out to (the
    hub hands them the same bytes object)."""
    global _last_chunk
    last, chunk = _last_chunk
    if last is not frame:
        chunk = b"%x\r\n%b\r\n" % (len(frame), frame)
        _last_chunk = (frame, chunk)
    return chunk
