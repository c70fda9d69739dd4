"""Valkey access: one connection pool per process (blocking: bursts queue briefly; sized
from THREADS, which the catalogue sets), timeouts, retry on connection loss,
and the Lua scripts of `shared/lua/`, each loaded once per process.

redis-py's `Script` runs EVALSHA and reloads the script on NOSCRIPT by itself, so a
Valkey restart or failover (which empties the script cache) needs no handling here.

`hot_script` is for the one script a hot path runs per request (the heartbeat): the same
EVALSHA, timeouts, retry and NOSCRIPT reload, on a connection of the calling thread's own
(see `HotScript`).
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import threading
import weakref
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import Script
from redis.retry import Retry

from shared.config import Config, get_config

_lock = threading.Lock()
_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                config = get_config()
                # Blocking: a burst beyond the pool queues for a free connection (for up to
                # VALKEY_POOL_TIMEOUT_S) instead of failing with "Too many connections" —
                # only a Valkey that cannot be reached answers 503.
                pool = redis.BlockingConnectionPool.from_url(
                    config.valkey_url,
                    max_connections=config.valkey_pool_size,
                    timeout=config.valkey_pool_timeout_s,
                    socket_timeout=config.valkey_timeout_s,
                    socket_connect_timeout=config.valkey_timeout_s,
                    retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.2), 3),
                    retry_on_error=[redis.ConnectionError, redis.TimeoutError],
                    health_check_interval=30,
                    decode_responses=True,
                    protocol=2,
                    **tls_arguments(config),
                )
                _client = redis.Redis(connection_pool=pool)
                _client.auto_close_connection_pool = True
    return _client


def tls_arguments(config: Config) -> dict[str, Any]:
    """Connection arguments for `rediss://` URLs: the server certificate must chain to the
    configured CA (Memorystore's per-instance managed CA); plain `redis://` gets none.

    The hostname is not matched by default: the functions reach the primary by its private
    PSC address, which the managed certificate is not documented to name, and the CA is
    unique to the instance, so a certificate chaining to it already proves the server."""
    if not config.valkey_url.startswith("rediss://"):
        return {}
    arguments: dict[str, Any] = {
        "ssl_cert_reqs": "required",
        "ssl_check_hostname": config.valkey_tls_check_hostname,
        "ssl_min_version": ssl.TLSVersion.TLSv1_2,
    }
    if config.valkey_ca_pem:
        arguments["ssl_ca_data"] = config.valkey_ca_pem
    elif config.valkey_ca_cert:
        arguments["ssl_ca_certs"] = config.valkey_ca_cert
    return arguments


def reset_client() -> None:
    """Drop the pool and the threads' own connections (tests that point the process at
    another server)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _forget_own_connections(close=True)
    script.cache_clear()
    hot_script.cache_clear()


_INCLUDE = re.compile(r"^--! include (\w+)$", re.MULTILINE)


@cache
def script(name: str) -> Script:
    """The Lua script `shared/lua/<name>.lua`, registered once per process."""
    return client().register_script(script_source(name))


def script_source(name: str) -> str:
    """A script's text with each `--! include <step>` line replaced by
    `shared/lua/steps/<step>.lua`: a rule two scripts share (EVAL has no `require`) is
    written once and still runs inside each script's one atomic step."""
    lua = resources.files("shared.lua")
    source = lua.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return _INCLUDE.sub(
        lambda m: lua.joinpath("steps", f"{m.group(1)}.lua").read_text(encoding="utf-8"), source
    )


# -- the hot path's script call ----------------------------------------------------------------


class HotScript:
    """A Lua script run as EVALSHA on the calling thread's own connection.

    Same command, same connection settings (timeouts, TLS, credentials, the pool's `Retry`
    on connection and timeout errors with a reconnect between attempts, the 30 s idle health
    check) and the same NOSCRIPT answer (load the script, run it again) as `script(name)`;
    what it leaves out is redis-py's per-command machinery around a pooled call — the pool
    checkout and release with their observability records and deprecation wrappers, and the
    `poll()` that checks a borrowed connection for stray data, whose release of the GIL hands
    it to another thread mid-request. Measured (docs/performance.md): one call 19–22 µs of CPU
    instead of 40–66 in one thread; under the presence benchmark's load, with the request id
    change, 484 instead of 643 µs of server CPU per heartbeat.

    Safe because the connection is never shared: one thread sends a command and reads its
    whole reply before the next, and redis-py disconnects it on any error while sending or
    reading (a timeout included), so it never holds a stray reply; a connection the server
    closed (a Valkey restart) fails its next attempt at once and the retry reconnects."""

    def __init__(self, name: str) -> None:
        self.source = script_source(name)
        # The script's name in Valkey's script cache (EVALSHA), as redis-py computes it.
        self.sha = hashlib.sha1(self.source.encode("utf-8"), usedforsecurity=False).hexdigest()

    def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        connection = _own_connection()
        connection.connect()  # as the pool's checkout does: a no-op while connected
        return connection.retry.call_with_retry(
            lambda: self._run(connection, len(keys), (*keys, *args)),
            lambda _error: connection.disconnect(),
        )

    def _run(self, connection: Any, numkeys: int, keys_and_args: tuple[Any, ...]) -> Any:
        connection.send_command("EVALSHA", self.sha, numkeys, *keys_and_args)
        try:
            return connection.read_response()
        except redis.exceptions.NoScriptError:
            # Valkey restarted or failed over (an empty script cache): load it, run again.
            connection.send_command("SCRIPT", "LOAD", self.source)
            self.sha = str(connection.read_response())
            connection.send_command("EVALSHA", self.sha, numkeys, *keys_and_args)
            return connection.read_response()


@cache
def hot_script(name: str) -> HotScript:
    """The Lua script `shared/lua/<name>.lua` for a hot path (`HotScript`)."""
    return HotScript(name)


# One connection per request thread, built like the pool's; it lives as long as its thread
# (a weak set, so a finished thread's connection is closed when it is collected). At most
# THREADS of them per process, besides the pool (docs/capacity.md, "Valkey connections").
_own = threading.local()
_own_connections: weakref.WeakSet[Any] = weakref.WeakSet()
_own_generation = 0


def _own_connection() -> Any:
    slot = getattr(_own, "slot", None)
    if slot is not None and slot[1] == _own_generation:
        return slot[0]
    pool = client().connection_pool
    connection = pool.connection_class(**pool.connection_kwargs)
    with _lock:
        _own_connections.add(connection)
        _own.slot = (connection, _own_generation)
    return connection


def _forget_own_connections(*, close: bool) -> None:
    """Make every thread build a new connection on its next call. Caller holds `_lock`."""
    global _own_generation
    _own_generation += 1
    if close:
        for connection in list(_own_connections):
            connection.disconnect()
    _own_connections.clear()


def _after_fork_in_child() -> None:
    # A forked child must not talk over its parent's sockets: it builds its own.
    _forget_own_connections(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
