"""Modules imported on first use, so a function's cold start pays only for what its first
request needs (docs/performance.md, "Cold start").

    if TYPE_CHECKING:
        import sqlalchemy as sa
    else:
        sa = lazy_module("sqlalchemy")

`sa.text(...)` then imports SQLAlchemy the first time any attribute is read, under Python's
import lock (so concurrent first requests import it once), and costs one attribute lookup
after that. Type checkers see the real module.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for `import <name>` that imports the module when first used."""
    return _LazyModule(name)
