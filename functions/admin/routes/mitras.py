"""Mitra management: list with live presence and load, create, edit, suspend, force
offline, erase a deactivated mitra's phone number."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.errors import Conflict, NotFound, PhoneTaken
from shared.identity.operators import ADMIN, SUPERADMIN, VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.mitras import (
    MitraAdminOut,
    MitraCreateIn,
    MitraPage,
    MitraPatchIn,
    MitraQuery,
)
from shared.schemas.privacy import EraseIn
from shared.web import Call
from shared.web.pagination import page_of

if TYPE_CHECKING:
    from shared.domain import erasure
    from shared.domain.admin import mitras
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    erasure = lazy_module("shared.domain.erasure")
    mitras = lazy_module("shared.domain.admin.mitras")


@api.get("/api/admin/mitras", auth=VIEWER, query=MitraQuery, response=MitraPage)
def list_mitras(call: Call[OperatorCaller, None, MitraQuery]) -> MitraPage:
    """Mitras, newest first, with live presence and load."""
    query = call.query
    views = mitras.mitra_page(
        q=query.q,
        status=query.status,
        online=query.online,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(
        MitraPage, views, query.limit, lambda v: (v.row.created_at, v.row.id), MitraAdminOut.of
    )


@api.post(
    "/api/admin/mitras",
    auth=ADMIN,
    body=MitraCreateIn,
    response=MitraAdminOut,
    status=201,
    errors=(PhoneTaken,),
)
def create_mitra(call: Call[OperatorCaller, MitraCreateIn]) -> MitraAdminOut:
    """Create a mitra (they log in with phone OTP on this number)."""
    caller = call.caller
    body = call.body
    return MitraAdminOut.of(
        mitras.create_mitra(caller.id, body.name, body.phone, body.max_customers, body.photo_url)
    )


@api.get("/api/admin/mitras/<uuid:mitra_id>", auth=VIEWER, response=MitraAdminOut)
def get_mitra(call: Call[OperatorCaller]) -> MitraAdminOut:
    """One mitra with live presence and load."""
    return MitraAdminOut.of(mitras.get_mitra(call.params["mitra_id"]))


@api.patch(
    "/api/admin/mitras/<uuid:mitra_id>",
    auth=ADMIN,
    body=MitraPatchIn,
    response=MitraAdminOut,
    errors=(PhoneTaken,),
)
def update_mitra(call: Call[OperatorCaller, MitraPatchIn]) -> MitraAdminOut:
    """Edit, suspend or activate a mitra; suspension applies at once everywhere."""
    caller = call.caller
    return MitraAdminOut.of(
        mitras.update_mitra(caller.id, call.params["mitra_id"], call.body.changes())
    )


@api.post("/api/admin/mitras/<uuid:mitra_id>/force-offline", auth=ADMIN, response=MitraAdminOut)
def force_offline(call: Call[OperatorCaller]) -> MitraAdminOut:
    """Take a mitra offline now (log reason `admin_forced`)."""
    caller = call.caller
    return MitraAdminOut.of(mitras.force_offline(caller.id, call.params["mitra_id"]))


@api.post(
    "/api/admin/mitras/<uuid:mitra_id>/erase-phone",
    auth=SUPERADMIN,
    body=EraseIn,
    response=MitraAdminOut,
    errors=(NotFound, Conflict),
)
def erase_mitra_phone(call: Call[OperatorCaller, EraseIn]) -> MitraAdminOut:
    """Erase a deactivated mitra's phone number on their request (also from past audit
    entries, with their Firebase sign-in and devices); their history stays. Suspend first
    (409 otherwise); idempotent; audited with the reason."""
    caller = call.caller
    mitra_id = call.params["mitra_id"]
    erasure.erase_mitra_phone(caller.id, mitra_id, call.body.reason)
    return MitraAdminOut.of(mitras.get_mitra(mitra_id))
