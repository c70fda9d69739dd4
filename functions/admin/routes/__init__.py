"""Control-center routes (internal ingress only), one module per resource. Each route names
the least role that may call it; roles nest (superadmin ⊇ admin ⊇ viewer).

Each module registers its routes on the one `api` (functions/admin/api.py) when it is
imported, and is imported with the first request under its path prefixes (`Api.include`),
not at start: its schema classes, and the identity and stream modules some need, are most
of what this function's start cost above the other functions' (docs/performance.md, "Cold
start, third pass"). `GROUPS` is the route table's order, and so the OpenAPI document's,
whichever module a request loads first.

Each module also loads its domain module with its first call (`shared.lazy.lazy_module`):
every route needs one, and some (erasure, rerouting) reach the pairing and session domain."""

from functions.admin.api import api

# module → the path prefixes its routes lie under (checked as they register)
GROUPS: dict[str, tuple[str, ...]] = {
    "operators": ("/api/admin/auth/", "/api/admin/admins"),
    "mitras": ("/api/admin/mitras",),
    "clients": ("/api/admin/users",),
    "settings": ("/api/admin/settings",),
    "packages": ("/api/admin/packages",),
    "audit": ("/api/admin/audit-logs",),
    "dashboard": ("/api/admin/dashboard", "/api/admin/stream-tickets"),
    "dashboard_stream": ("/api/admin/dashboard/stream",),
    "health": ("/api/admin/health",),
    "payments": ("/api/admin/payments",),
    "sweeper": ("/api/admin/sweeper",),
    "sessions": ("/api/admin/sessions",),
    "online_logs": ("/api/admin/mitras/", "/api/admin/online-logs", "/api/admin/online-durations"),
}
for _module, _prefixes in GROUPS.items():
    api.include(f"{__name__}.{_module}", prefixes=_prefixes)

__all__ = ["api"]
