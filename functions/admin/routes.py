"""Control-center routes (internal ingress only): operator login and accounts, mitra and
client management, settings, packages, the audit log, the real-time dashboard, session
management and reroute, mitra online logs and sweeper health. Each route names the least
role that may call it; roles nest (superadmin ⊇ admin ⊇ viewer)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Response

from shared import events, ratelimit
from shared.config import get_config
from shared.domain import (
    audit,
    client_admin,
    credit_adjustments,
    dashboard,
    erasure,
    health,
    mitra_admin,
    online_logs,
    operators,
    orphans,
    package_admin,
    payment_admin,
    reroute,
    session_admin,
    settings,
    settings_admin,
    sweeper_health,
)
from shared.errors import (
    AlreadySearching,
    AtCapacity,
    Conflict,
    EmailTaken,
    InvalidCredentials,
    LastSuperadmin,
    Locked,
    NotFound,
    NotOnline,
    PhoneTaken,
    RateLimited,
    SessionEnded,
    Suspended,
)
from shared.identity import tickets
from shared.identity.operators import ADMIN, SUPERADMIN, VIEWER, OperatorCaller
from shared.identity.policies import OPEN
from shared.identity.tickets import VIEWER_STREAM
from shared.schemas.admin import (
    AuditOut,
    AuditPage,
    AuditQuery,
    LoginIn,
    LoginOut,
    MitraAdminOut,
    MitraCreateIn,
    MitraPage,
    MitraPatchIn,
    MitraQuery,
    OperatorCreateIn,
    OperatorOut,
    OperatorPage,
    OperatorPatchIn,
    PackageCreateIn,
    PackageOut,
    PackagePage,
    PackagePatchIn,
    SettingsIn,
    SettingsOut,
    UserAdminOut,
    UserDetailOut,
    UserPage,
    UserPatchIn,
    UserQuery,
)
from shared.schemas.admin_live import (
    AdminEndIn,
    AdminSessionOut,
    AdminSessionPage,
    DashboardOut,
    DashboardQuery,
    DurationOut,
    DurationPage,
    MitraOnlineLogQuery,
    OnlineLogQuery,
    RerouteIn,
    RerouteQueuedOut,
    SessionQuery,
    SweeperHealthOut,
    TransitionOut,
    TransitionPage,
)
from shared.schemas.operations import (
    AdminPaymentOut,
    AdminPaymentPage,
    CreditAdjustmentIn,
    CreditAdjustmentOut,
    PaymentQuery,
    ReadinessOut,
)
from shared.schemas.privacy import EraseIn, ErasureOut
from shared.schemas.streams import StreamTicketOut
from shared.web import Api, Call, Reply
from shared.web.pagination import PageQuery, page_of
from shared.web.sse import (
    HEADERS,
    KEEPALIVE,
    MIMETYPE,
    RETRY,
    Guard,
    Stream,
    closing_frame,
    format_event,
    hub,
    max_stream_s,
    recheck_interval_s,
    run_guard,
)

api = Api("admin", title="Halo Bestie control center", audience="admin")


def _by_created(row: Any) -> tuple[datetime, Any]:
    return (row.created_at, row.id)


# -- operator auth and accounts -------------------------------------------------------------


@api.post(
    "/api/admin/auth/login",
    auth=OPEN,
    body=LoginIn,
    response=LoginOut,
    errors=(InvalidCredentials, Locked, Suspended),
)
def login(call: Call[LoginIn]) -> LoginOut:
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
def me(call: Call[None]) -> OperatorOut:
    """The calling operator."""
    caller: OperatorCaller = call.caller
    return OperatorOut.of(caller.operator)


@api.get("/api/admin/admins", auth=SUPERADMIN, query=PageQuery, response=OperatorPage)
def list_operators(call: Call[None]) -> OperatorPage:
    """Operator accounts, newest first."""
    query: PageQuery = call.query
    rows = operators.operator_page(query.after, query.limit + 1)
    return page_of(OperatorPage, rows, query.limit, _by_created, OperatorOut.of)


@api.post(
    "/api/admin/admins",
    auth=SUPERADMIN,
    body=OperatorCreateIn,
    response=OperatorOut,
    status=201,
    errors=(EmailTaken,),
)
def create_operator(call: Call[OperatorCreateIn]) -> OperatorOut:
    """Create an operator account."""
    caller: OperatorCaller = call.caller
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
def update_operator(call: Call[OperatorPatchIn]) -> OperatorOut:
    """Change an operator's role, status or password (never removing the last superadmin)."""
    caller: OperatorCaller = call.caller
    body = call.body
    updated = operators.update_operator(
        caller.id,
        call.params["operator_id"],
        role=body.role,
        status=body.status,
        password=body.password,
    )
    return OperatorOut.of(updated)


# -- mitras ---------------------------------------------------------------------------------


@api.get("/api/admin/mitras", auth=VIEWER, query=MitraQuery, response=MitraPage)
def list_mitras(call: Call[None]) -> MitraPage:
    """Mitras, newest first, with live presence and load."""
    query: MitraQuery = call.query
    views = mitra_admin.mitra_page(
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
def create_mitra(call: Call[MitraCreateIn]) -> MitraAdminOut:
    """Create a mitra (they log in with phone OTP on this number)."""
    caller: OperatorCaller = call.caller
    body = call.body
    return MitraAdminOut.of(
        mitra_admin.create_mitra(
            caller.id, body.name, body.phone, body.max_customers, body.photo_url
        )
    )


@api.get("/api/admin/mitras/<uuid:mitra_id>", auth=VIEWER, response=MitraAdminOut)
def get_mitra(call: Call[None]) -> MitraAdminOut:
    """One mitra with live presence and load."""
    return MitraAdminOut.of(mitra_admin.get_mitra(call.params["mitra_id"]))


@api.patch(
    "/api/admin/mitras/<uuid:mitra_id>",
    auth=ADMIN,
    body=MitraPatchIn,
    response=MitraAdminOut,
    errors=(PhoneTaken,),
)
def update_mitra(call: Call[MitraPatchIn]) -> MitraAdminOut:
    """Edit, suspend or activate a mitra; suspension applies at once everywhere."""
    caller: OperatorCaller = call.caller
    return MitraAdminOut.of(
        mitra_admin.update_mitra(caller.id, call.params["mitra_id"], call.body.changes())
    )


@api.post("/api/admin/mitras/<uuid:mitra_id>/force-offline", auth=ADMIN, response=MitraAdminOut)
def force_offline(call: Call[None]) -> MitraAdminOut:
    """Take a mitra offline now (log reason `admin_forced`)."""
    caller: OperatorCaller = call.caller
    return MitraAdminOut.of(mitra_admin.force_offline(caller.id, call.params["mitra_id"]))


@api.post(
    "/api/admin/mitras/<uuid:mitra_id>/erase-phone",
    auth=SUPERADMIN,
    body=EraseIn,
    response=MitraAdminOut,
    errors=(NotFound, Conflict),
)
def erase_mitra_phone(call: Call[EraseIn]) -> MitraAdminOut:
    """Erase a deactivated mitra's phone number on their request (also from past audit
    entries, with their Firebase sign-in and devices); their history stays. Suspend first
    (409 otherwise); idempotent; audited with the reason."""
    caller: OperatorCaller = call.caller
    mitra_id = call.params["mitra_id"]
    erasure.erase_mitra_phone(caller.id, mitra_id, call.body.reason)
    return MitraAdminOut.of(mitra_admin.get_mitra(mitra_id))


# -- clients (users) ------------------------------------------------------------------------


@api.post(
    "/api/admin/users/<uuid:client_id>/erase",
    auth=SUPERADMIN,
    body=EraseIn,
    response=ErasureOut,
    errors=(NotFound,),
)
def erase_user(call: Call[EraseIn]) -> ErasureOut:
    """Delete a client's account on their request, exactly as their own deletion does;
    audited with the reason; idempotent (a repeat answers the first result)."""
    caller: OperatorCaller = call.caller
    return ErasureOut.of(
        erasure.erase_client(caller.id, call.params["client_id"], call.body.reason)
    )


@api.get("/api/admin/users", auth=VIEWER, query=UserQuery, response=UserPage)
def list_users(call: Call[None]) -> UserPage:
    """Clients by id, exact phone or display-name prefix, newest first."""
    query: UserQuery = call.query
    rows = client_admin.client_page(
        q=query.q, status=query.status, after=query.after, limit=query.limit + 1
    )
    return page_of(UserPage, rows, query.limit, _by_created, UserAdminOut.of)


@api.get("/api/admin/users/<uuid:client_id>", auth=VIEWER, response=UserDetailOut)
def get_user(call: Call[None]) -> UserDetailOut:
    """One client with their balance."""
    view = client_admin.get_client(call.params["client_id"])
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
def adjust_credits(call: Call[CreditAdjustmentIn]) -> CreditAdjustmentOut | Reply:
    """Grant (sessions > 0) or refund (sessions < 0) bought credits, with a reason; a ledger
    entry, audited. A refund below zero credits → 409; a retry with the same
    Idempotency-Key → 200 with the first entry."""
    caller: OperatorCaller = call.caller
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
def update_user(call: Call[UserPatchIn]) -> UserDetailOut:
    """Suspend or activate a client."""
    caller: OperatorCaller = call.caller
    view = client_admin.set_status(caller.id, call.params["client_id"], call.body.status)
    return UserDetailOut.of_view(view.row, view.balance)


# -- settings -------------------------------------------------------------------------------


@api.get("/api/admin/settings", auth=VIEWER, response=SettingsOut)
def get_settings(call: Call[None]) -> SettingsOut:
    """The current settings and their version."""
    return SettingsOut.of(settings.current_versioned())


@api.put(
    "/api/admin/settings",
    auth=ADMIN,
    body=SettingsIn,
    response=SettingsOut,
    errors=(Conflict,),
)
def put_settings(call: Call[SettingsIn]) -> SettingsOut:
    """Save a new settings version (fields left out keep their value); with `version`, only
    if nobody saved another since (else 409 conflict)."""
    caller: OperatorCaller = call.caller
    changes = call.body.model_dump(exclude_unset=True)
    expected = changes.pop("version", None)
    return SettingsOut.of(settings_admin.update_settings(caller.id, changes, expected))


# -- packages -------------------------------------------------------------------------------


@api.get("/api/admin/packages", auth=VIEWER, query=PageQuery, response=PackagePage)
def list_packages(call: Call[None]) -> PackagePage:
    """Every package, active or not, newest first."""
    query: PageQuery = call.query
    rows = package_admin.package_page(query.after, query.limit + 1)
    return page_of(PackagePage, rows, query.limit, _by_created, PackageOut.of)


@api.post("/api/admin/packages", auth=ADMIN, body=PackageCreateIn, response=PackageOut, status=201)
def create_package(call: Call[PackageCreateIn]) -> PackageOut:
    """Add a package (price in whole rupiah)."""
    caller: OperatorCaller = call.caller
    return PackageOut.of(package_admin.create_package(caller.id, **call.body.model_dump()))


@api.patch(
    "/api/admin/packages/<uuid:package_id>", auth=ADMIN, body=PackagePatchIn, response=PackageOut
)
def update_package(call: Call[PackagePatchIn]) -> PackageOut:
    """Change a package's name, sessions, price, order or active flag."""
    caller: OperatorCaller = call.caller
    return PackageOut.of(
        package_admin.update_package(caller.id, call.params["package_id"], call.body.changes())
    )


# -- audit ----------------------------------------------------------------------------------


@api.get("/api/admin/audit-logs", auth=ADMIN, query=AuditQuery, response=AuditPage)
def audit_logs(call: Call[None]) -> AuditPage:
    """Every operator write, newest first."""
    query: AuditQuery = call.query
    rows = audit.entries(
        at_from=query.at_from,
        at_to=query.at_to,
        operator_id=query.admin_id,
        target_type=query.target_type,
        target_id=query.target_id,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(AuditPage, rows, query.limit, lambda row: (row.at, row.id), AuditOut.of)


# -- dashboard ------------------------------------------------------------------------------


@api.get("/api/admin/dashboard", auth=VIEWER, query=DashboardQuery, response=DashboardOut)
def get_dashboard(call: Call[None]) -> DashboardOut:
    """Live figures and the day's figures (`?day=`: another Asia/Jakarta day's figures)."""
    query: DashboardQuery = call.query
    return DashboardOut.of(dashboard.snapshot(query.day))


@api.post(
    "/api/admin/stream-tickets",
    auth=VIEWER,
    response=StreamTicketOut,
    status=201,
    errors=(RateLimited,),
)
def create_stream_ticket(call: Call[None]) -> Reply:
    """A single-use ticket (≤ 60 s) that opens the dashboard stream as `?ticket=`."""
    # A ticket is a credential: no cache may keep a copy.
    return Reply(StreamTicketOut.of(tickets.issue(call.caller)), 201, {"Cache-Control": "no-store"})


@api.get("/api/admin/dashboard/stream", auth=VIEWER_STREAM, stream=True)
def dashboard_stream(call: Call[None]) -> Response:
    """The dashboard as server-sent events: on every change, and at least every 5 s.
    `?ticket=` (from `POST /api/admin/stream-tickets`) may replace `Authorization`."""
    # Orphan alerts (`session.orphaned`) are forwarded as their own events between frames;
    # the handled orphan also changes the figures, so the alert goes out within a tick.
    alerts = hub().open("admin", orphans.ALERT_RECIPIENT)
    try:
        first = dashboard.snapshot()
    except BaseException:
        hub().close(alerts)
        raise
    later = dashboard.watch(first, until=time.monotonic() + max_stream_s())
    return _event_stream(first, later, alerts, call.guard)


def _event_stream(
    first: dashboard.Dashboard,
    later: Iterator[dashboard.Dashboard | None],
    alerts: Stream,
    guard: Guard | None,
) -> Response:
    def frame(board: dashboard.Dashboard | None) -> str:
        if board is None:
            return KEEPALIVE
        payload = DashboardOut.of(board).model_dump(mode="json")
        return format_event(events.envelope("dashboard", payload))

    def pending_alerts() -> Iterator[str]:
        while True:
            try:
                item = alerts.queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, str):  # hub control items (resync, overflow) are not alerts
                yield format_event(item)

    def generate() -> Iterator[str]:
        # The feed yields at least every DASHBOARD_MAX_SILENCE_S, so a re-check is due at
        # most that long after STREAM_RECHECK_S.
        recheck = recheck_interval_s()
        next_check = time.monotonic() + recheck
        try:
            yield RETRY + frame(first)
            for board in later:
                if guard is not None and time.monotonic() >= next_check:
                    reason = run_guard(guard)
                    if reason is not None:
                        yield closing_frame(reason)
                        return
                    next_check = time.monotonic() + recheck
                yield from pending_alerts()
                yield frame(board)
        finally:
            hub().close(alerts)
            close = getattr(later, "close", None)
            if close is not None:
                close()

    return Response(generate(), mimetype=MIMETYPE, headers=HEADERS)


@api.get("/api/admin/health", auth=VIEWER, response=ReadinessOut, also={503: ReadinessOut})
def get_health(call: Call[None]) -> ReadinessOut | Reply:
    """Readiness: PostgreSQL, Valkey and the sweeper's last run, each ok/degraded/down;
    503 (same body) when a store is down."""
    readiness = health.readiness()
    out = ReadinessOut.of(readiness)
    return Reply(out, status=503) if readiness.status == "down" else out


@api.get("/api/admin/payments", auth=ADMIN, query=PaymentQuery, response=AdminPaymentPage)
def list_payments(call: Call[None]) -> AdminPaymentPage:
    """Payments, newest first, by status and client, each with its recorded callbacks
    (webhook or reconciliation) and their outcomes."""
    query: PaymentQuery = call.query
    rows = payment_admin.payment_page(
        status=query.status, client_id=query.client_id, after=query.after, limit=query.limit + 1
    )
    return page_of(
        AdminPaymentPage,
        rows,
        query.limit,
        lambda item: (item[0].created_at, item[0].id),
        AdminPaymentOut.of,
    )


@api.get("/api/admin/sweeper", auth=VIEWER, response=SweeperHealthOut)
def get_sweeper_health(call: Call[None]) -> SweeperHealthOut:
    """The sweeper's last run and, in GCP, its Cloud Scheduler job."""
    return SweeperHealthOut.of(sweeper_health.health())


# -- sessions -------------------------------------------------------------------------------


@api.get("/api/admin/sessions", auth=VIEWER, query=SessionQuery, response=AdminSessionPage)
def list_sessions(call: Call[None]) -> AdminSessionPage:
    """Sessions, newest first, by status, mitra, client, start time or orphaned."""
    query: SessionQuery = call.query
    views = session_admin.session_page(
        status=query.status,
        mitra_id=query.mitra_id,
        client_id=query.client_id,
        started_from=query.started_from,
        started_to=query.started_to,
        orphaned=query.orphaned,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(
        AdminSessionPage,
        views,
        query.limit,
        lambda v: (v.row.started_at, v.row.id),
        AdminSessionOut.of,
    )


@api.get("/api/admin/sessions/<uuid:session_id>", auth=VIEWER, response=AdminSessionOut)
def get_session(call: Call[None]) -> AdminSessionOut:
    """One session with every mitra it had."""
    return AdminSessionOut.of(session_admin.get_session(call.params["session_id"]))


@api.post(
    "/api/admin/sessions/<uuid:session_id>/end",
    auth=ADMIN,
    body=AdminEndIn,
    response=AdminSessionOut,
)
def end_session(call: Call[AdminEndIn]) -> AdminSessionOut:
    """End a session now (both apps get `session.ended`); idempotent."""
    caller: OperatorCaller = call.caller
    return AdminSessionOut.of(
        session_admin.end_session(caller.id, call.params["session_id"], call.body.reason)
    )


@api.post(
    "/api/admin/sessions/<uuid:session_id>/reroute",
    auth=ADMIN,
    body=RerouteIn,
    response=AdminSessionOut,
    errors=(NotOnline, AtCapacity, SessionEnded, AlreadySearching, Conflict),
    also={202: RerouteQueuedOut},
)
def reroute_session(call: Call[RerouteIn]) -> AdminSessionOut | Reply:
    """Move the session to a named mitra (200), or re-blast it to available mitras (202)."""
    caller: OperatorCaller = call.caller
    session_id = call.params["session_id"]
    if call.body.mitra_id is not None:
        return AdminSessionOut.of(reroute.to_mitra(caller.id, session_id, call.body.mitra_id))
    request = reroute.reblast(caller.id, session_id)
    return Reply(RerouteQueuedOut.of(request, session_id), status=202)


# -- mitra online logs ----------------------------------------------------------------------


@api.get(
    "/api/admin/mitras/<uuid:mitra_id>/online-logs",
    auth=VIEWER,
    query=MitraOnlineLogQuery,
    response=TransitionPage,
)
def mitra_online_logs(call: Call[None]) -> TransitionPage:
    """One mitra's online/offline transitions, newest first."""
    query: MitraOnlineLogQuery = call.query
    rows = online_logs.transitions(
        mitra_id=call.params["mitra_id"],
        at_from=query.at_from,
        at_to=query.at_to,
        after=query.after,
        limit=query.limit + 1,
        require_mitra=True,
    )
    return page_of(TransitionPage, rows, query.limit, lambda r: (r.at, r.id), TransitionOut.of)


@api.get("/api/admin/online-logs", auth=VIEWER, query=OnlineLogQuery, response=TransitionPage)
def all_online_logs(call: Call[None]) -> TransitionPage:
    """Every mitra's online/offline transitions, newest first."""
    query: OnlineLogQuery = call.query
    rows = online_logs.transitions(
        mitra_id=query.mitra_id,
        at_from=query.at_from,
        at_to=query.at_to,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(TransitionPage, rows, query.limit, lambda r: (r.at, r.id), TransitionOut.of)


@api.get("/api/admin/online-durations", auth=VIEWER, query=OnlineLogQuery, response=DurationPage)
def online_durations(call: Call[None]) -> DurationPage:
    """Seconds online per mitra per Asia/Jakarta day, newest day first (default: 7 days)."""
    query: OnlineLogQuery = call.query
    rows = online_logs.durations(
        mitra_id=query.mitra_id,
        at_from=query.at_from,
        at_to=query.at_to,
        after=query.after,
        limit=query.limit + 1,
    )
    return page_of(
        DurationPage, rows, query.limit, lambda r: (r.day_start, r.mitra_id), DurationOut.of
    )
