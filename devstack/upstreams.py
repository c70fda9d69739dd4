"""Functions whose entry point is async (functions-framework's ASGI mode) cannot run inside
the local gateway's threaded process: each runs as its own server, the way Cloud Run runs
it, and the gateway proxies the paths it owns to `HALO_UPSTREAM_<NAME>`."""

from __future__ import annotations

import ast
from functools import cache

from shared.catalogue import CATALOGUE_PATH, FunctionEntry


def is_async_entry_point(entry: FunctionEntry) -> bool:
    """Whether `entry_point` in functions/<source>/main.py is `async def` (read, not
    imported, so the stack does not load every function to start them)."""
    return _is_async(entry.source, entry.entry_point)


@cache
def _is_async(source: str, entry_point: str) -> bool:
    main = CATALOGUE_PATH.parent / source / "main.py"
    tree = ast.parse(main.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.AsyncFunctionDef) and node.name == entry_point for node in tree.body
    )


def upstream_variable(name: str) -> str:
    """The gateway's environment variable holding that function's server URL."""
    return "HALO_UPSTREAM_" + name.upper().replace("-", "_")
