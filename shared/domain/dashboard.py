"""The control center's real-time dashboard: live figures from Valkey, day figures from
PostgreSQL, and a per-process feed that recomputes them for every open dashboard stream.

Cost of one dashboard, whatever the size of the day's data: **two round trips** — one Valkey
script call (`shared/lua/dashboard_live.lua`: online / available / busy mitras and the
sweeper's last run: two ZCOUNTs, O(log M) inside Valkey) and one SQL statement
(`shared.store.dashboard.figures`, index ranges only) — plus the settings read, which the
per-process settings cache serves without a round trip inside `SETTINGS_CACHE_S`. Only if
Valkey lost `sweeper:last_run` does a third read ask PostgreSQL for the last sweeper run.

Streams: however many operators watch, one thread per process computes the dashboard once
per tick (`DASHBOARD_TICK_S`, default 1 s) while at least one stream is open; each stream
sends the object when it changed and, unchanged, at least every `DASHBOARD_MAX_SILENCE_S`
(default 5 s).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from shared import db
from shared.clock import now_ms as clock_now_ms
from shared.config import get_config
from shared.domain import presence, settings, sweeper
from shared.log import get_logger, log_event
from shared.store import dashboard as store
from shared.store.dashboard import OrphanRow
from shared.store.live import dashboard as live

JAKARTA = ZoneInfo("Asia/Jakarta")
# A sweeper that has not finished a run for this long is reported stale (Scheduler fires
# every minute, so three misses in a row).
SWEEPER_STALE_S = 180

logger = get_logger("halo.dashboard")


def tick_s() -> float:
    return get_config().dashboard_tick_s


def max_silence_s() -> float:
    return get_config().dashboard_max_silence_s


@dataclass(frozen=True, slots=True)
class SweeperState:
    last_run_at: datetime | None
    status: str  # ok | failed (the last run's outcome) | never
    stale: bool


@dataclass(frozen=True, slots=True)
class Dashboard:
    mitras_online: int
    mitras_available: int
    mitras_busy: int
    clients_searching: int
    sessions_active: int
    sessions_today: int
    sessions_orphaned: int
    orphans: tuple[OrphanRow, ...]
    requests_today: int
    time_to_match_p50_s: float | None
    time_to_match_p90_s: float | None
    no_bestie_rate_today: float | None
    day: date
    sweeper: SweeperState
    as_of: datetime

    def same_figures(self, other: Dashboard) -> bool:
        """Equal in everything but `as_of` (what makes a stream send a new frame)."""
        return dataclasses.replace(self, as_of=other.as_of) == other


def today() -> date:
    return datetime.now(JAKARTA).date()


def snapshot(day: date | None = None) -> Dashboard:
    """The dashboard now; the day figures are for `day` (Asia/Jakarta), today by default."""
    current = settings.current()
    online, available, busy, finished_at, status = live.live_figures(
        presence.fresh_cutoff_ms(current, clock_now_ms())
    )
    day = day or today()
    with db.read() as connection:
        figures = store.figures(connection, day)
    as_of = datetime.now(UTC)
    return Dashboard(
        mitras_online=online,
        mitras_available=available,
        mitras_busy=busy,
        clients_searching=figures.clients_searching,
        sessions_active=figures.sessions_active,
        sessions_today=figures.sessions_today,
        sessions_orphaned=figures.sessions_orphaned,
        orphans=figures.orphans,
        requests_today=figures.requests_today,
        time_to_match_p50_s=_seconds(figures.time_to_match_p50_ms),
        time_to_match_p90_s=_seconds(figures.time_to_match_p90_ms),
        no_bestie_rate_today=(
            round(figures.no_bestie_today / figures.requests_today, 4)
            if figures.requests_today
            else None
        ),
        day=day,
        sweeper=_sweeper_state(finished_at, status, as_of),
        as_of=as_of,
    )


def _seconds(ms: float | None) -> float | None:
    return round(ms / 1000, 3) if ms is not None else None


def _sweeper_state(finished_at: str | None, status: str | None, now: datetime) -> SweeperState:
    if finished_at:
        last_at, last_status = datetime.fromisoformat(finished_at), status or "failed"
    else:
        # Valkey lost its copy (restart, flush): PostgreSQL has every run.
        last = sweeper.last_run()
        if last is None:
            return SweeperState(last_run_at=None, status="never", stale=True)
        last_at, last_status = last.finished_at, last.status
    stale = (now - last_at).total_seconds() > SWEEPER_STALE_S
    return SweeperState(last_run_at=last_at, status=last_status, stale=stale)


# -- the live feed ---------------------------------------------------------------------------


class Feed:
    """One per process: a thread recomputes the dashboard every tick while any stream
    watches, so N open streams cost one computation per tick, not N."""

    def __init__(self, compute: Callable[[], Dashboard]) -> None:
        self._compute = compute
        self._cond = threading.Condition()
        self._latest: Dashboard | None = None
        self._watchers = 0
        self._running = False

    def watch(self, first: Dashboard, *, until: float) -> Iterator[Dashboard | None]:
        """The dashboards to send after `first` (already sent): each change, and the latest
        figures again after `max_silence_s()` without one, until the monotonic `until`.
        None when there are no newer figures to repeat (the stores are failing): the stream
        sends a keep-alive comment instead."""
        tick, silence = tick_s(), max_silence_s()
        with self._cond:
            self._watchers += 1
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, args=(tick,), name="dashboard-feed", daemon=True
                ).start()
        sent, sent_at = first, time.monotonic()
        try:
            while time.monotonic() < until:
                with self._cond:
                    self._cond.wait(timeout=tick * 2)
                    latest = self._latest
                if latest is None or latest.as_of <= sent.as_of:
                    if time.monotonic() - sent_at >= silence:
                        sent_at = time.monotonic()
                        yield None
                    continue
                if not latest.same_figures(sent) or time.monotonic() - sent_at >= silence:
                    sent, sent_at = latest, time.monotonic()
                    yield latest
        finally:
            with self._cond:
                self._watchers -= 1

    def _run(self, tick: float) -> None:
        while True:
            with self._cond:
                if self._watchers == 0:
                    self._running = False
                    self._latest = None
                    return
            started = time.monotonic()
            try:
                fresh = self._compute()
            except Exception as exc:  # the feed outlives a store's hiccup; streams wait
                log_event(logger, 40, "dashboard computation failed", error=type(exc).__name__)
            else:
                with self._cond:
                    self._latest = fresh
                    self._cond.notify_all()
            time.sleep(max(0.0, tick - (time.monotonic() - started)))


_feed = Feed(snapshot)


def watch(first: Dashboard, *, until: float) -> Iterator[Dashboard | None]:
    """The process's feed (see `Feed.watch`)."""
    return _feed.watch(first, until=until)
