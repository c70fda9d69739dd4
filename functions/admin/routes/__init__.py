"""Control-center routes (internal ingress only), one module per resource. Each route names
the least role that may call it; roles nest (superadmin ⊇ admin ⊇ viewer).

Importing a module registers its routes on the one `api` (functions/admin/api.py); the
order below is the route table's order, and so the OpenAPI document's."""

from functions.admin.api import api
from functions.admin.routes import (  # noqa: F401  (imported to register their routes)
    audit,
    clients,
    dashboard,
    dashboard_stream,
    health,
    mitras,
    online_logs,
    operators,
    packages,
    payments,
    sessions,
    settings,
    sweeper,
)

__all__ = ["api"]
