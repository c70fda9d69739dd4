"""Which mitras and clients have an open event stream right now, for the notifier ("clients
are waiting" goes only to mitras whose app cannot hear the offer live; a new chat message
pushes only to a participant whose app cannot hear it live).

`streams:mitra:<id>` is a sorted set: one member per open stream (a random token), scored
by the time the mark lapses (epoch ms). The stream marks itself when it opens and again on
its keep-alive, and removes its member when it ends; a stream whose process died simply
lapses. Refreshed once per keep-alive interval, all of an instance's streams in one pipelined
round trip on the shared connection pool — a stream never holds a Valkey connection of its
own.
"""

from __future__ import annotations

from shared import clock, valkey
from shared.store.live import keys

TRACKED_AUDIENCES = frozenset({"mitra", "client"})
KEY_PREFIX = keys.STREAMS_PREFIX
key = keys.open_streams


def mark_open(audience: str, recipient_id: str, token: str, lapse_s: float) -> None:
    mark_open_many([(audience, recipient_id, token)], lapse_s)


def mark_open_many(marks: list[tuple[str, str, str]], lapse_s: float) -> None:
    """`mark_open` for many (audience, recipient_id, token) at once: one round trip (an
    instance refreshes all its streams' marks together)."""
    now_ms = clock.now_ms()
    lapse_ms = int(lapse_s * 1000)
    pipe = valkey.client().pipeline(transaction=False)
    for audience, recipient_id, token in marks:
        pipe.zadd(key(audience, recipient_id), {token: now_ms + lapse_ms})
        pipe.zremrangebyscore(key(audience, recipient_id), "-inf", now_ms)
        pipe.pexpire(key(audience, recipient_id), lapse_ms)
    pipe.execute()


def mark_closed(audience: str, recipient_id: str, token: str) -> None:
    valkey.client().zrem(key(audience, recipient_id), token)


def is_open(audience: str, recipient_id: str) -> bool:
    """Whether any unlapsed stream of this recipient is marked open."""
    now_ms = clock.now_ms()
    return bool(valkey.client().zcount(key(audience, recipient_id), now_ms, "+inf"))
