"""Keyset paging for the store modules: where the previous page stopped, as the SQL a page
query takes. A store's query ends, for example, `… AND {keyset_page_sql("created_at", "id",
"uuid")}`, which reads

    (CAST(:after_at AS timestamptz) IS NULL
     OR (created_at, id) < (:after_at, CAST(:after_id AS uuid)))
    ORDER BY created_at DESC, id DESC LIMIT :limit

with `keyset_page_params(after, UUID, limit)` among its parameters, and fetches `limit + 1`
rows; the cursor that carries a `Keyset` over HTTP, and turning the extra row into the
next cursor, are the web side's (shared/web/pagination.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import errors

# PostgreSQL's bigint: an integer id outside it cannot be compared with the column.
_BIGINT_MIN = -(2**63)
_BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where the previous page stopped: the last row's (timestamp, id)."""

    at: datetime
    id: str

    def params(self, id_type: Callable[[str], Any] = str) -> dict[str, Any]:
        """Query parameters; `id_type` (e.g. UUID, int) turns a forged id into a 400, and
        an integer id must fit the `bigint` column it is compared with."""
        try:
            row_id = id_type(self.id)
        except (ValueError, TypeError):
            raise bad_cursor() from None
        if isinstance(row_id, int) and not _BIGINT_MIN <= row_id <= _BIGINT_MAX:
            raise bad_cursor()
        return {"after_at": self.at, "after_id": row_id}


NO_KEYSET: dict[str, Any] = {"after_at": None, "after_id": None}


def keyset_page_sql(at: str, row_id: str, id_type: str) -> str:
    """The tail of a page query, newest first after a `Keyset`: the condition (a first page
    passes `NO_KEYSET`, whose NULL `:after_at` lets every row through), the order and the
    limit. `id_type` is the SQL type of the id column, which `:after_id` is cast to."""
    return (
        f"(CAST(:after_at AS timestamptz) IS NULL"
        f" OR ({at}, {row_id}) < (:after_at, CAST(:after_id AS {id_type})))"
        f" ORDER BY {at} DESC, {row_id} DESC LIMIT :limit"
    )


def keyset_page_params(
    after: Keyset | None, id_type: Callable[[str], Any], limit: int
) -> dict[str, Any]:
    """The parameters `keyset_page_sql` takes; `id_type` as for `Keyset.params`."""
    return {**(after.params(id_type) if after else NO_KEYSET), "limit": limit}


def bad_cursor() -> errors.InvalidRequest:
    return errors.InvalidRequest(
        "The cursor is not one this API returned.",
        fields=[{"field": "cursor", "error": "invalid_cursor"}],
    )
