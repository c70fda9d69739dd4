"""Valkey access: one connection pool per process (blocking: bursts queue briefly; sized
from THREADS, which the catalogue sets), timeouts, retry on connection loss,
and the Lua scripts of `shared/lua/`, each loaded once per process.

redis-py's `Script` runs EVALSHA and reloads the script on NOSCRIPT by itself, so a
Valkey restart or failover (which empties the script cache) needs no handling here.
"""

from __future__ import annotations

import re
import ssl
import threading
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
    """Drop the pool (tests that point the process at another server)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
    script.cache_clear()


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
