"""What the actors report while they run, and the snapshot the live view and summary read."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Metrics:
    """Thread-safe counters; every actor writes here, the view reads a snapshot."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    matched: int = 0
    no_bestie: int = 0
    expired: int = 0
    cancelled: int = 0
    sessions_ended: int = 0
    accepts_won: int = 0
    accepts_lost: Counter[str] = field(default_factory=Counter)
    declines: int = 0
    drops: int = 0
    offers_by_stream: int = 0
    offers_by_poll: int = 0
    match_ms: list[float] = field(default_factory=list)
    heartbeat_ms: list[float] = field(default_factory=list)  # as the app sees it
    no_idle_client: int = 0  # design target: an arrival found every client busy
    lapses: int = 0  # design target: a heartbeat answered 409 (its mitra had lapsed)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # Sampled from Valkey and PostgreSQL by the sampler thread.
    online: int = 0
    available: int = 0
    busy: int = 0
    searching: int = 0
    active_sessions: int = 0
    over_capacity_seen: int = 0

    def count(self, name: str, by: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + by)

    def status(self, code: int, what: str) -> None:
        with self.lock:
            self.statuses[code] += 1
            if code >= 500 and code != 503:
                self.errors.append(f"{code} {what}")

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def summary(self) -> dict[str, object]:
        with self.lock:
            closed = self.matched + self.no_bestie + self.expired + self.cancelled
            return {
                "requests": self.requests,
                "matched": self.matched,
                "no_bestie": self.no_bestie,
                "expired": self.expired,
                "cancelled": self.cancelled,
                "no_bestie_rate": round(self.no_bestie / closed, 4) if closed else 0.0,
                "sessions_ended": self.sessions_ended,
                "accepts_won": self.accepts_won,
                "accepts_lost": dict(self.accepts_lost),
                "declines": self.declines,
                "drops": self.drops,
                "lapses": self.lapses,
                "no_idle_client": self.no_idle_client,
                "offers_seen_by_stream": self.offers_by_stream,
                "offers_seen_by_poll": self.offers_by_poll,
                "match_ms_p50": percentile(self.match_ms, 0.50),
                "match_ms_p99": percentile(self.match_ms, 0.99),
                "heartbeat_ms_p50": _rounded(percentile(self.heartbeat_ms, 0.50)),
                "heartbeat_ms_p99": _rounded(percentile(self.heartbeat_ms, 0.99)),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "errors": len(self.errors),
                "error_samples": self.errors[:20],
                "online": self.online,
                "available": self.available,
                "busy": self.busy,
                "searching": self.searching,
                "active_sessions": self.active_sessions,
                "over_capacity_seen": self.over_capacity_seen,
            }
