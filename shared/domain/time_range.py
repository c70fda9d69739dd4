"""The one rule for the control center's `from`/`to` filters: `from` before `to`, and at
most 31 days apart, so every range query stays bounded."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.errors import InvalidRequest

MAX_RANGE = timedelta(days=31)


def check(at_from: datetime | None, at_to: datetime | None) -> None:
    """Raise `InvalidRequest` (naming `to`) for a reversed or over-long range; an open end
    is allowed (lists are paginated, so an open range costs one page at a time)."""
    if at_from is None or at_to is None:
        return
    if at_to <= at_from:
        raise InvalidRequest(
            "`to` must be after `from`.",
            fields=[{"field": "to", "error": "range_reversed"}],
        )
    if at_to - at_from > MAX_RANGE:
        raise InvalidRequest(
            "A time range may span at most 31 days.",
            fields=[{"field": "to", "error": "range_too_long"}],
        )
