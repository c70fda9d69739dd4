"""Countable log signals: one JSON log line per occurrence, with a top-level `event` field
naming it, from which Cloud Logging log-based metrics count (terraform/ builds the metrics,
alert policies and the operations dashboard on exactly these names and fields).

Log-based metrics cost nothing on the hot path (no SDK, no network call; the line is
written to stdout like any other log). Fields are ids, outcomes and durations only — never
personal data. docs/operations.md lists every signal and what counts it.
"""

from __future__ import annotations

from typing import Any, Literal

from shared.log import get_logger, log_event

logger = get_logger("halo.signals")

PairingOutcome = Literal["matched", "no_bestie", "expired", "cancelled"]
SweeperOutcome = Literal["ok", "failed"]
WebhookOutcome = Literal["credited", "replayed", "mismatch", "expired", "ignored", "rejected"]
ReconciledOutcome = Literal["credited", "replayed", "expired", "failed", "pending", "error"]

INFO, WARNING = 20, 30


def _emit(level: int, message: str, event: str, **fields: Any) -> None:
    log_event(logger, level, message, event=event, **fields)


def pairing_outcome(
    outcome: PairingOutcome, request_id: Any, time_to_match_ms: int | None = None
) -> None:
    fields: dict[str, Any] = {"outcome": outcome, "request_id": str(request_id)}
    if time_to_match_ms is not None:
        fields["time_to_match_ms"] = int(time_to_match_ms)
    _emit(INFO, f"pairing request {outcome}", "pairing_outcome", **fields)


def orphan_detected(session_id: Any, age_s: float) -> None:
    _emit(
        WARNING,
        "orphaned session detected",
        "orphan_detected",
        session_id=str(session_id),
        age_s=round(age_s, 1),
    )


def orphan_handled(session_id: Any, action: str) -> None:
    _emit(
        INFO,
        "orphaned session handled",
        "orphan_handled",
        session_id=str(session_id),
        action=action,
    )


def sweeper_run(outcome: SweeperOutcome, duration_ms: float) -> None:
    _emit(
        INFO if outcome == "ok" else WARNING,
        f"sweeper run {outcome}",
        "sweeper_run",
        outcome=outcome,
        duration_ms=round(duration_ms, 1),
    )


def xendit_webhook(outcome: WebhookOutcome, **ids: Any) -> None:
    level = WARNING if outcome in ("mismatch", "rejected") else INFO
    _emit(level, f"xendit webhook {outcome}", "xendit_webhook", outcome=outcome, **ids)


def payment_reconciled(outcome: ReconciledOutcome, **ids: Any) -> None:
    level = WARNING if outcome in ("failed", "error") else INFO
    _emit(level, f"payment reconciliation {outcome}", "payment_reconciled", outcome=outcome, **ids)


def session_timeout(session_id: Any) -> None:
    _emit(INFO, "session ended: time limit", "session_timeout", session_id=str(session_id))
