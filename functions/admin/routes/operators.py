"""Operator login and operator accounts (superadmin manages them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.admin.api import api
from shared import ratelimit
from shared.config import get_config
from shared.errors import EmailTaken, InvalidCredentials, LastSuperadmin, Locked, Suspended
from shared.identity.operators import SUPERADMIN, VIEWER, OperatorCaller
from shared.identity.policies import OPEN
from shared.lazy import lazy_module
from shared.schemas.admin.operators import (
    LoginIn,
    LoginOut,
    OperatorCreateIn,
    OperatorOut,
    OperatorPage,
    OperatorPatchIn,
)
from shared.web import Call
from shared.web.pagination import PageQuery, by_created, page_of

if TYPE_CHECKING:
    from shared.domain import operators
else:
    # Loaded with this resource's first request (functions/admin/routes/__init__.py).
    operators = lazy_module("shared.domain.operators")


@api.post(
    "/api/admin/auth/login",
    auth=OPEN,
    body=LoginIn,
    response=LoginOut,
    errors=(InvalidCredentials, Locked, Suspended),
)
def login(call: Call[None, LoginIn]) -> LoginOut:
    """Exchange email and password for an operator token (5 failures in 15 min lock).
    Attempts are limited per email (`OPERATOR_LOGIN_EMAIL_RATE`) and per source address
    (`OPERATOR_LOGIN_SOURCE_RATE`): 429 rate_limited with Retry-After, nothing checked."""
    config = get_config()
    source = ratelimit.source_address(call.request)
    if not ratelimit.is_loopback(source):
        ratelimit.hit("operator-login:source", source, config.operator_login_source_rate)
    digest = operators.email_digest(call.body.email)
    ratelimit.hit("operator-login:email", digest, config.operator_login_email_rate)
    operator, issued = operators.login(call.body.email, call.body.password)
    return LoginOut(
        token=issued.token, expires_at=issued.expires_at, admin=OperatorOut.of(operator)
    )


@api.get("/api/admin/auth/me", auth=VIEWER, response=OperatorOut)
def me(call: Call[OperatorCaller]) -> OperatorOut:
    """The calling operator."""
    caller = call.caller
    return OperatorOut.of(caller.operator)


@api.get("/api/admin/admins", auth=SUPERADMIN, query=PageQuery, response=OperatorPage)
def list_operators(call: Call[OperatorCaller, None, PageQuery]) -> OperatorPage:
    """Operator accounts, newest first."""
    query = call.query
    rows = operators.operator_page(query.after, query.limit + 1)
    return page_of(OperatorPage, rows, query.limit, by_created, OperatorOut.of)


@api.post(
    "/api/admin/admins",
    auth=SUPERADMIN,
    body=OperatorCreateIn,
    response=OperatorOut,
    status=201,
    errors=(EmailTaken,),
)
def create_operator(call: Call[OperatorCaller, OperatorCreateIn]) -> OperatorOut:
    """Create an operator account."""
    caller = call.caller
    body = call.body
    return OperatorOut.of(
        operators.create_operator(caller.id, body.email, body.password, body.role)
    )


@api.patch(
    "/api/admin/admins/<uuid:operator_id>",
    auth=SUPERADMIN,
    body=OperatorPatchIn,
    response=OperatorOut,
    errors=(LastSuperadmin,),
)
def update_operator(call: Call[OperatorCaller, OperatorPatchIn]) -> OperatorOut:
    """Change an operator's role, status or password (never removing the last superadmin)."""
    caller = call.caller
    body = call.body
    updated = operators.update_operator(
        caller.id,
        call.params["operator_id"],
        role=body.role,
        status=body.status,
        password=body.password,
    )
    return OperatorOut.of(updated)
