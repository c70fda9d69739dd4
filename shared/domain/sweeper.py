"""The sweeper: a small pipeline of independent steps run once a minute (Cloud Scheduler →
Pub/Sub → the `sweep_presence` CloudEvent function).

Adding a step is one line in `STEPS`. Each step is a function taking nothing and returning
counts; it must be safe when two sweepers run at once or one runs twice (claim in Valkey or
guard in SQL, never read-then-write). A failing step is logged and recorded, and the others
still run. Each run is recorded in Valkey (`sweeper:last_run`, for the dashboard) and as a
`sweeper_runs` row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import db, signals
from shared.domain import (
    orphans,
    pairing,
    presence,
    reconciliation,
    retention,
    session_timeouts,
)
from shared.identity import revocation
from shared.log import get_logger, log_event
from shared.store import sweeper_runs
from shared.store.live import dashboard as live_dashboard
from shared.store.sweeper_runs import RunStatus

logger = get_logger("halo.sweeper")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: Callable[[], Mapping[str, int]]


STEPS: tuple[Step, ...] = (
    Step("presence_timeouts", presence.expire_lapsed),
    Step("presence_reconcile", presence.reconcile),
    Step("pairing_expiry", pairing.sweep),
    Step("orphans", orphans.sweep),
    Step("session_timeouts", session_timeouts.sweep),
    Step("payment_reconcile", reconciliation.sweep),
    Step("retention", retention.sweep),
    Step("revocations", revocation.sweep),
)


@dataclass(slots=True)
class SweepOutcome:
    started_at: datetime
    finished_at: datetime | None = None
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def status(self) -> RunStatus:
        return "ok" if all(s.get("ok") for s in self.steps.values()) else "failed"

    def summary(self) -> dict[str, Any]:
        return {"steps": self.steps}


def run(steps: tuple[Step, ...] = STEPS) -> SweepOutcome:
    outcome = SweepOutcome(started_at=datetime.now(UTC))
    for step in steps:
        started = time.perf_counter()
        try:
            counts = dict(step.run())
            outcome.steps[step.name] = {"ok": True, **counts}
        except Exception as exc:  # one broken step must not stop the others
            logger.exception("sweeper step %s failed", step.name)
            outcome.steps[step.name] = {"ok": False, "error": type(exc).__name__}
        outcome.steps[step.name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    outcome.finished_at = datetime.now(UTC)
    _record(outcome)
    return outcome


def _record(outcome: SweepOutcome) -> None:
    """Both records are best effort: with PostgreSQL down the dashboard still sees the run
    (and its failure) in Valkey, and the other way round."""
    try:
        live_dashboard.record_sweep(
            started_at=outcome.started_at.isoformat(),
            finished_at=(outcome.finished_at or outcome.started_at).isoformat(),
            status=outcome.status,
            summary=json.dumps(outcome.summary()),
        )
    except Exception:
        logger.exception("could not record the sweeper run in Valkey")
    try:
        with db.transaction() as connection:
            sweeper_runs.insert(
                connection,
                started_at=outcome.started_at,
                status=outcome.status,
                summary=outcome.summary(),
            )
    except Exception:
        logger.exception("could not record the sweeper run in PostgreSQL")
    log_event(logger, 20, "sweep finished", status=outcome.status, steps=outcome.steps)
    finished = outcome.finished_at or outcome.started_at
    signals.sweeper_run(outcome.status, (finished - outcome.started_at).total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class LastRun:
    finished_at: datetime
    status: str


def last_run() -> LastRun | None:
    """The latest run, for the dashboard: Valkey first, PostgreSQL if Valkey lost it."""
    raw = live_dashboard.last_sweep()
    if raw.get("finished_at"):
        return LastRun(datetime.fromisoformat(raw["finished_at"]), raw.get("status", "failed"))
    with db.read() as connection:
        row = sweeper_runs.latest(connection)
    return LastRun(row.finished_at, row.status) if row else None
