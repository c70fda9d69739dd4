"""The session-package catalogue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.identity.operators import ADMIN, VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.packages import PackageCreateIn, PackageOut, PackagePage, PackagePatchIn
from shared.web import Call
from shared.web.pagination import PageQuery, by_created, page_of

if TYPE_CHECKING:
    from shared.domain.admin import packages
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    packages = lazy_module("shared.domain.admin.packages")


@api.get("/api/admin/packages", auth=VIEWER, query=PageQuery, response=PackagePage)
def list_packages(call: Call[OperatorCaller, None, PageQuery]) -> PackagePage:
    """Every package, active or not, newest first."""
    query = call.query
    rows = packages.package_page(query.after, query.limit + 1)
    return page_of(PackagePage, rows, query.limit, by_created, PackageOut.of)


@api.post("/api/admin/packages", auth=ADMIN, body=PackageCreateIn, response=PackageOut, status=201)
def create_package(call: Call[OperatorCaller, PackageCreateIn]) -> PackageOut:
    """Add a package (price in whole rupiah)."""
    caller = call.caller
    return PackageOut.of(packages.create_package(caller.id, **call.body.model_dump()))


@api.patch(
    "/api/admin/packages/<uuid:package_id>", auth=ADMIN, body=PackagePatchIn, response=PackageOut
)
def update_package(call: Call[OperatorCaller, PackagePatchIn]) -> PackageOut:
    """Change a package's name, sessions, price, order or active flag."""
    caller = call.caller
    return PackageOut.of(
        packages.update_package(caller.id, call.params["package_id"], call.body.changes())
    )
