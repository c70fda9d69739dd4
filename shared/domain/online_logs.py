"""Mitra online logs for the control center: every online/offline transition (with its
reason and, for forced ones, the operator), and online time per mitra per Asia/Jakarta day,
computed in SQL (shared.store.online_logs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from shared import db
from shared.domain import time_range
from shared.domain.dashboard import JAKARTA
from shared.errors import NotFound
from shared.store import mitras
from shared.store import online_logs as store
from shared.store.online_logs import DurationRow, TransitionRow
from shared.store.paging import Keyset

DEFAULT_DURATION_DAYS = 7


def transitions(
    *,
    mitra_id: UUID | None,
    at_from: datetime | None,
    at_to: datetime | None,
    after: Keyset | None,
    limit: int,
    require_mitra: bool = False,
) -> list[TransitionRow]:
    """Newest first. `require_mitra`: a mitra that does not exist is `not_found` (the
    per-mitra route), rather than an empty list (the filter on the list of all)."""
    time_range.check(at_from, at_to)
    with db.read() as connection:
        if require_mitra and mitra_id and mitras.by_id(connection, mitra_id) is None:
            raise NotFound("No mitra with that id.")
        return store.transitions(
            connection,
            mitra_id=mitra_id,
            at_from=at_from,
            at_to=at_to,
            after=after,
            limit=limit,
        )


def durations(
    *,
    mitra_id: UUID | None,
    at_from: datetime | None,
    at_to: datetime | None,
    after: Keyset | None,
    limit: int,
) -> list[DurationRow]:
    """Seconds online per mitra per Asia/Jakarta day. Without `to`, up to now; without
    `from`, from the Jakarta midnight starting the 7-day window that ends at `to`."""
    at_to = at_to or datetime.now(JAKARTA)
    if at_from is None:
        first_day = (at_to - timedelta(days=DEFAULT_DURATION_DAYS - 1)).astimezone(JAKARTA)
        at_from = first_day.replace(hour=0, minute=0, second=0, microsecond=0)
    time_range.check(at_from, at_to)
    with db.read() as connection:
        return store.durations(
            connection,
            mitra_id=mitra_id,
            at_from=at_from,
            at_to=at_to,
            after=after,
            limit=limit,
        )
