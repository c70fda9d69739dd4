"""Sweeper health for the control center: what the sweeper itself records (every run, in
Valkey and PostgreSQL), and — in GCP, when `SWEEPER_SCHEDULER_JOB` names the Cloud
Scheduler job — that job's state, last attempt and last status (google-cloud-scheduler,
imported on first use so the local stack and tests need no GCP)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import db
from shared.config import get_config
from shared.domain.dashboard import SWEEPER_STALE_S
from shared.log import get_logger, log_event
from shared.store import sweeper_runs
from shared.store.sweeper_runs import SweeperRunRow

# The Scheduler API is asked at most this often per process (operators refresh freely).
SCHEDULER_CACHE_S = 30
logger = get_logger("halo.sweeper_health")


@dataclass(frozen=True, slots=True)
class SchedulerJob:
    name: str
    state: str  # ENABLED, PAUSED, DISABLED, UPDATE_FAILED
    schedule: str
    last_attempt_at: datetime | None
    last_status: str  # "ok", or the gRPC status of the last attempt's failure
    error: str | None = None  # the API could not be asked (permissions, network)


@dataclass(frozen=True, slots=True)
class SweeperHealth:
    last_run: SweeperRunRow | None
    stale: bool
    scheduler: SchedulerJob | None


def health() -> SweeperHealth:
    with db.read() as connection:
        last = sweeper_runs.latest(connection)
    stale = last is None or (datetime.now(UTC) - last.finished_at).total_seconds() > (
        SWEEPER_STALE_S
    )
    job_name = get_config().sweeper_scheduler_job
    return SweeperHealth(
        last_run=last, stale=stale, scheduler=_scheduler_job(job_name) if job_name else None
    )


_cache_lock = threading.Lock()
_cached: tuple[float, SchedulerJob] | None = None


def _scheduler_job(name: str) -> SchedulerJob:
    global _cached
    with _cache_lock:
        if _cached and time.monotonic() - _cached[0] < SCHEDULER_CACHE_S:
            return _cached[1]
    job = _ask_scheduler(name)
    with _cache_lock:
        _cached = (time.monotonic(), job)
    return job


def _ask_scheduler(name: str) -> SchedulerJob:
    try:
        from google.cloud import scheduler_v1

        found: Any = scheduler_v1.CloudSchedulerClient().get_job(name=name, timeout=5)
    except Exception as exc:  # health must be readable even when the API is not
        log_event(logger, 30, "could not read the Scheduler job", error=type(exc).__name__)
        return SchedulerJob(
            name=name,
            state="UNKNOWN",
            schedule="",
            last_attempt_at=None,
            last_status="unknown",
            error=type(exc).__name__,
        )
    code = int(getattr(found.status, "code", 0) or 0)
    attempt = found.last_attempt_time
    return SchedulerJob(
        name=name,
        state=found.State(found.state).name,
        schedule=found.schedule,
        last_attempt_at=attempt if attempt and attempt.timestamp() > 0 else None,
        last_status="ok" if code == 0 else f"code {code}: {found.status.message}",
    )
