"""A function's cold start: its entry module's imports and setup, with Python's cyclic
garbage collector held off (docs/performance.md, "Cold start").

    with cold_start():
        import functions_framework
        ...

Loading a function creates a few hundred thousand objects — modules, classes, functions,
pydantic and werkzeug structures — that live as long as the process. While they load, the
collector runs its full collection several times over the growing heap and frees nothing
(≈ 45–65 ms of a 300–400 ms import, measured with `python -X importtime` and
bench/coldstart.py). Held off, the same imports run without those passes; on the way out,
`gc.freeze()` moves every object that exists by then into the permanent generation, so
later collections (during requests) do not walk the startup heap either, and collection
resumes as before. What freezing costs: the few cycles of garbage that loading left behind
are never freed (they would have been freed once) — kilobytes, once per process.

It also turns off pydantic's plugin discovery (`PYDANTIC_DISABLE_PLUGINS`, unless the
deployment sets it): the first model a process builds otherwise reads the entry points of
every installed distribution, looking for pydantic plugins, of which we install none
(tests/http/test_cold_imports.py fails if one appears) — ≈ 4–7 ms of every function's
start with the test environment's 137 distributions (docs/performance.md, "Cold start,
third pass"). A deployment that adds a plugin sets the variable to "" to load it.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cold_start() -> Iterator[None]:
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
