"""The local stand-in for Cloud Run's routing when a function runs as several instances: an
asyncio HTTP/1.1 reverse proxy on the public port that sends each request to the function
owning its path (the catalogue's prefixes, as devstack/gateway.py routes them) and, among
that function's instances, to the one with the fewest requests in flight (ties taken in
turn, so idle instances share the load round-robin).

Only used when some function runs more than one instance (`StackOptions.instances`); with
one instance each, the stack keeps the single in-process gateway.

Responses are relayed as they arrive — chunk by chunk for an event stream — so a stream
through the balancer is a stream; an open stream counts as one request in flight on its
instance until it ends (least-connections keeps streams spread evenly). Connections are
kept alive on both sides. Run it with:

    python -m devstack.balancer --port 8080 --backends '{"auth": ["127.0.0.1:9001"], …}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared.catalogue import load_catalogue

LIMIT = 1 << 20  # longest head line or chunk-size line we read
IDLE_REUSE_S = 1.0  # gunicorn closes idle keep-alive connections after 2 s
NO_BODY = (204, 304)
T = TypeVar("T")


@dataclass
class Backend:
    host: str
    port: int
    in_flight: int = 0
    served: int = 0
    idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = field(
        default_factory=deque
    )

    async def connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """A kept-alive connection if one was idle briefly enough, else a new one; the flag
        says whether it was reused (a reused one may have been closed under us)."""
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since < IDLE_REUSE_S and not reader.at_eof():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=LIMIT)
        return reader, writer, False

    def release(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        now = time.monotonic()
        self.idle.append((reader, writer, now))
        while self.idle and now - self.idle[0][2] >= IDLE_REUSE_S:
            self.idle.popleft()[1].close()  # the instance will have closed it anyway


class Pools:
    """Each function's instances; `pick` is least-in-flight, ties in turn."""

    def __init__(self, backends: dict[str, list[str]]) -> None:
        self.by_function: dict[str, list[Backend]] = {}
        for name, addresses in backends.items():
            pool = []
            for address in addresses:
                host, port = address.rsplit(":", 1)
                pool.append(Backend(host, int(port)))
            self.by_function[name] = pool
        self._turn = itertools.count()

    def pick(self, function: str) -> Backend | None:
        pool = self.by_function.get(function)
        if not pool:
            return None
        start = next(self._turn) % len(pool)
        ordered = pool[start:] + pool[:start]
        return min(ordered, key=lambda b: b.in_flight)


class UpstreamClosed(Exception):
    """The instance closed a kept-alive connection before answering (safe to resend)."""


def _headers(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    return lines[0], fields


def _not_routed(path: str) -> bytes:
    body = json.dumps(
        {
            "error": {
                "code": "not_found",
                "message": "No function serves this path here.",
                "details": {"path": path},
            }
        }
    ).encode()
    return (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Balancer:
    def __init__(self, pools: Pools, ingress: str) -> None:
        self.pools = pools
        self.catalogue = load_catalogue()
        self.ingress = ingress

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Relay one request and its answer; False when the client connection is done."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, fields = _headers(head)
        parts = request_line.split(" ")
        if len(parts) != 3 or "chunked" in fields.get("transfer-encoding", "").lower():
            writer.write(_BAD_REQUEST)  # our apps never send chunked bodies
            await writer.drain()
            return False
        method, target = parts[0], parts[1]
        length = int(fields.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0]
        entry = self.catalogue.owner_of(path, self.ingress)
        backend = self.pools.pick(entry.name) if entry is not None else None
        if backend is None:
            writer.write(_not_routed(path))
            await writer.drain()
            return fields.get("connection", "").lower() != "close"
        backend.in_flight += 1
        backend.served += 1
        try:
            for attempt in range(2):
                try:
                    keep = await self._relay(backend, method, head + body, writer)
                    break
                except UpstreamClosed:
                    if attempt:
                        writer.write(_BAD_GATEWAY)
                        return False
            else:  # pragma: no cover (the loop always breaks or returns)
                return False
        except OSError:
            writer.write(_BAD_GATEWAY)
            return False
        finally:
            backend.in_flight -= 1
        return keep and fields.get("connection", "").lower() != "close"

    async def _relay(
        self, backend: Backend, method: str, request: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        """Send `request` to `backend` and relay its answer; True when both connections may
        carry another request."""
        up_reader, up_writer, reused = await backend.connection()
        reusable = False
        try:
            up_writer.write(request)
            await up_writer.drain()
            try:
                head = await up_reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if reused:
                    raise UpstreamClosed from exc
                raise OSError("the instance closed the connection without an answer") from exc
            writer.write(head)
            status_line, fields = _headers(head)
            status = int(status_line.split(" ", 2)[1])
            closes = fields.get("connection", "").lower() == "close"
            if method == "HEAD" or status in NO_BODY or 100 <= status < 200:
                pass
            elif "chunked" in fields.get("transfer-encoding", "").lower():
                await _relay_chunked(up_reader, writer)
            elif "content-length" in fields:
                await _relay_exactly(up_reader, writer, int(fields["content-length"]))
            else:  # delimited by the close
                while chunk := await up_reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
                closes = True
            await writer.drain()
            reusable = not closes
            return reusable
        finally:
            if reusable:
                backend.release(up_reader, up_writer)
            else:
                up_writer.close()


async def _relay_exactly(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int
) -> None:
    while length > 0:
        chunk = await reader.read(min(length, 65536))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", length)
        writer.write(chunk)
        length -= len(chunk)
        await writer.drain()


async def _relay_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Relay a chunked body chunk by chunk, each written on as soon as it is read (an event
    stream's frame reaches the client without waiting for the next)."""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            trailer = size_line
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                trailer += line
            writer.write(trailer + b"\r\n")
            return
        writer.write(size_line + await reader.readexactly(size + 2))
        await writer.drain()


async def _main(port: int, backends: dict[str, list[str]], ingress: str) -> None:
    balancer = Balancer(Pools(backends), ingress)
    server = await asyncio.start_server(
        balancer.serve, "127.0.0.1", port, limit=LIMIT, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.balancer")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ingress", default="public")
    parser.add_argument("--backends", required=True, help="JSON: function → [host:port, …]")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        run_fast(_main(args.port, json.loads(args.backends), args.ingress))


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on uvloop's event loop when it is installed (the `local` extra)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


if __name__ == "__main__":
    main()
