"""Control-center routes (internal ingress only), one module per resource. Each route names
the least role that may call it; roles nest (superadmin ⊇ admin ⊇ viewer).

Importing a module registers its routes on the one `api` (functions/admin/api.py); `ORDER`
is the route table's order, and so the OpenAPI document's.

Each module loads its domain module with its first request (`shared.lazy.lazy_module`), not
at import: every route needs one, some (erasure, rerouting) reach the pairing and session
domain, and importing them all at start made this function's cold start the slowest
(docs/performance.md, "Cold start, second pass")."""

from importlib import import_module

from functions.admin.api import api

ORDER = (
    "operators",
    "mitras",
    "clients",
    "settings",
    "packages",
    "audit",
    "dashboard",
    "dashboard_stream",
    "health",
    "payments",
    "sweeper",
    "sessions",
    "online_logs",
)
for _module in ORDER:
    import_module(f"{__name__}.{_module}")

__all__ = ["api"]
