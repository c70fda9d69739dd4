"""Client (contract: `users`) management: list, view, suspend, erase on request, credit
adjustments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared.errors import Conflict, NotFound
from shared.identity.operators import ADMIN, SUPERADMIN, VIEWER, OperatorCaller
from shared.lazy import lazy_module
from shared.schemas.admin.clients import (
    UserAdminOut,
    UserDetailOut,
    UserPage,
    UserPatchIn,
    UserQuery,
)
from shared.schemas.operations import CreditAdjustmentIn, CreditAdjustmentOut
from shared.schemas.privacy import EraseIn, ErasureOut
from shared.web import Call, Reply
from shared.web.pagination import by_created, page_of

if TYPE_CHECKING:
    from shared.domain import credit_adjustments, erasure
    from shared.domain.admin import clients
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    credit_adjustments = lazy_module("shared.domain.credit_adjustments")
    erasure = lazy_module("shared.domain.erasure")
    clients = lazy_module("shared.domain.admin.clients")


@api.post(
    "/api/admin/users/<uuid:client_id>/erase",
    auth=SUPERADMIN,
    body=EraseIn,
    response=ErasureOut,
    errors=(NotFound,),
)
def erase_user(call: Call[OperatorCaller, EraseIn]) -> ErasureOut:
    """Delete a client's account on their request, exactly as their own deletion does;
    audited with the reason; idempotent (a repeat answers the first result)."""
    caller = call.caller
    return ErasureOut.of(
        erasure.erase_client(caller.id, call.params["client_id"], call.body.reason)
    )


@api.get("/api/admin/users", auth=VIEWER, query=UserQuery, response=UserPage)
def list_users(call: Call[OperatorCaller, None, UserQuery]) -> UserPage:
    """Clients by id, exact phone or display-name prefix, newest first."""
    query = call.query
    rows = clients.client_page(
        q=query.q, status=query.status, after=query.after, limit=query.limit + 1
    )
    return page_of(UserPage, rows, query.limit, by_created, UserAdminOut.of)


@api.get("/api/admin/users/<uuid:client_id>", auth=VIEWER, response=UserDetailOut)
def get_user(call: Call[OperatorCaller]) -> UserDetailOut:
    """One client with their balance."""
    view = clients.get_client(call.params["client_id"])
    return UserDetailOut.of_view(view.row, view.balance)


@api.post(
    "/api/admin/users/<uuid:client_id>/credit-adjustments",
    auth=SUPERADMIN,
    body=CreditAdjustmentIn,
    response=CreditAdjustmentOut,
    status=201,
    errors=(NotFound, Conflict),
    also={200: "A retry with the same Idempotency-Key: the first entry"},
)
def adjust_credits(call: Call[OperatorCaller, CreditAdjustmentIn]) -> CreditAdjustmentOut | Reply:
    """Grant (sessions > 0) or refund (sessions < 0) bought credits, with a reason; a ledger
    entry, audited. A refund below zero credits → 409; a retry with the same
    Idempotency-Key → 200 with the first entry."""
    caller = call.caller
    adjustment = credit_adjustments.adjust(
        caller.id,
        call.params["client_id"],
        call.body.sessions,
        call.body.reason,
        call.idempotency_key,
    )
    out = CreditAdjustmentOut.of(adjustment)
    return out if adjustment.created else Reply(out, status=200)


@api.patch(
    "/api/admin/users/<uuid:client_id>", auth=ADMIN, body=UserPatchIn, response=UserDetailOut
)
def update_user(call: Call[OperatorCaller, UserPatchIn]) -> UserDetailOut:
    """Suspend or activate a client."""
    caller = call.caller
    view = clients.set_status(caller.id, call.params["client_id"], call.body.status)
    return UserDetailOut.of_view(view.row, view.balance)
