"""Moved to `shared.store.live.streams` (every Valkey key has one owner); this name stays
for shared/web/sse.py."""

from shared.store.live.streams import (  # noqa: F401
    KEY_PREFIX,
    TRACKED_AUDIENCES,
    is_open,
    key,
    mark_closed,
    mark_open,
)
