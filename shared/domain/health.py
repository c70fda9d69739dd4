"""Readiness for operators (`GET /api/admin/health`): PostgreSQL (`SELECT 1`), Valkey
(`PING`) and the sweeper's last run, each with a state `ok | degraded | down`.

Overall status is the worst state. `down` only comes from the stores: without PostgreSQL or
Valkey the service cannot serve, so the route answers 503. A late or failed sweeper
degrades (200): requests are still served, but expiry, orphans, timeouts and payment
reconciliation wait — the on-call alert "sweeper not run for 3 minutes" covers it.

The public `GET /api/shared/health` checks none of this on purpose: the load balancer and
uptime checks call it often, and an outage of a shared store must not make every instance
look dead to the load balancer (which would only add cold starts to the outage).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from shared import db
from shared.domain import sweeper
from shared.domain.dashboard import SWEEPER_STALE_S
from shared.lazy import lazy_module
from shared.log import get_logger, log_event
from shared.store import live

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy_module("sqlalchemy")

State = Literal["ok", "degraded", "down"]
_RANK: dict[State, int] = {"ok": 0, "degraded": 1, "down": 2}
logger = get_logger("halo.health")


@dataclass(frozen=True, slots=True)
class Check:
    state: State
    latency_ms: float | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class SweeperCheck:
    state: State
    stale_after_s: int
    last_run_at: datetime | None = None
    last_status: str | None = None
    age_s: float | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Readiness:
    status: State
    postgres: Check
    valkey: Check
    sweeper: SweeperCheck
    checked_at: datetime


def readiness() -> Readiness:
    postgres, store = _timed(_select_one), _timed(_ping)
    sweep = _sweeper()
    worst = max((postgres.state, store.state, sweep.state), key=_RANK.__getitem__)
    return Readiness(
        status=worst, postgres=postgres, valkey=store, sweeper=sweep, checked_at=datetime.now(UTC)
    )


def _select_one() -> None:
    with db.read() as connection:
        connection.execute(sa.text("SELECT 1")).scalar_one()


def _ping() -> None:
    live.ping()


def _timed(probe: Callable[[], None]) -> Check:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # the point is to report it, not to fail the request
        log_event(logger, 40, "readiness probe failed", error=type(exc).__name__)
        return Check(state="down", detail=type(exc).__name__)
    return Check(state="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def _sweeper() -> SweeperCheck:
    try:
        last = sweeper.last_run()  # Valkey first, PostgreSQL if Valkey lost it
    except Exception as exc:
        return SweeperCheck(
            state="degraded", stale_after_s=SWEEPER_STALE_S, detail=type(exc).__name__
        )
    if last is None:
        return SweeperCheck(
            state="degraded", stale_after_s=SWEEPER_STALE_S, detail="the sweeper has never run"
        )
    age = (datetime.now(UTC) - last.finished_at).total_seconds()
    healthy = age <= SWEEPER_STALE_S and last.status == "ok"
    detail = None
    if age > SWEEPER_STALE_S:
        detail = "no run finished recently"
    elif last.status != "ok":
        detail = "the last run had a failing step"
    return SweeperCheck(
        state="ok" if healthy else "degraded",
        stale_after_s=SWEEPER_STALE_S,
        last_run_at=last.finished_at,
        last_status=last.status,
        age_s=round(age, 1),
        detail=detail,
    )
