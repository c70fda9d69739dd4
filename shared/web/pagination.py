"""Cursor pagination as the contract specifies it: `?limit=` (default 50, max 200), an
opaque `?cursor=`, and `{"items": [...], "next_cursor": "..." | null}`.

Pages are keyset pages over (timestamp DESC, id DESC), so a page never skips or repeats a
row when rows are added while someone is paging, and the cost of page N does not grow
with N. Stores take the decoded `Keyset` (shared/store/paging.py) and fetch `limit + 1`
rows; `page_of` turns the extra row into the next cursor.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared import errors
from shared.schemas.common import RequestModel
from shared.store.paging import Keyset, bad_cursor
from shared.web import untrusted

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_MAX_ID_CHARS = 40

RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")


class PageQuery(RequestModel):
    """Query parameters of every list endpoint; subclass it to add filters."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=200)

    @property
    def after(self) -> Keyset | None:
        return decode_cursor(self.cursor) if self.cursor else None


class Page(BaseModel, Generic[ItemT]):
    """Subclass per item type (`class MitraPage(Page[MitraOut])`) so OpenAPI names stay plain."""

    # Built on first use, as every schema (shared.schemas.common).
    model_config = ConfigDict(defer_build=True)

    items: list[ItemT]
    next_cursor: str | None


PageT = TypeVar("PageT", bound=Page[Any])


def encode_cursor(at: datetime, row_id: Any) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Keyset:
    """A cursor back into its keyset. Cursors come back from the caller, so they are
    untrusted: the same JSON limits as bodies, a timestamp the database can hold, and an
    id of at most `_MAX_ID_CHARS` (a UUID or a bigint, written out)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = untrusted.loads(base64.urlsafe_b64decode(padded.encode()), field="cursor")
        at, row_id = decoded
        if not isinstance(at, str) or not isinstance(row_id, str | int):
            raise TypeError
        row_id = str(row_id)
        if len(row_id) > _MAX_ID_CHARS:
            raise ValueError
        at_time = datetime.fromisoformat(at)
        untrusted.check_instant(at_time, "cursor")
        return Keyset(at=at_time, id=row_id)
    except (ValueError, TypeError, errors.InvalidRequest):
        raise bad_cursor() from None


def by_created(row: Any) -> tuple[datetime, Any]:
    """The usual page key: a row's (created_at, id)."""
    return (row.created_at, row.id)


def page_of(
    page: type[PageT],
    rows: Sequence[RowT],
    limit: int,
    key: Callable[[RowT], tuple[datetime, Any]],
    item: Callable[[RowT], Any],
) -> PageT:
    """`rows` as fetched with `limit + 1`: the first `limit` become items, and the next
    cursor exists only when the extra row proves there is more."""
    shown = list(rows[:limit])
    next_cursor = encode_cursor(*key(shown[-1])) if len(rows) > limit and shown else None
    return page(items=[item(row) for row in shown], next_cursor=next_cursor)
