"""Push bookkeeping in Valkey: the "clients are waiting" collapse per mitra
(`push:waiting:<mitra id>`), the per-device delivery marks of the notifier
(`push:sent:<event id>:<sha256(token)>`) and the chat push collapse
(`chat:push:<session id>:<side>`). Losing any of them costs at most an extra push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from shared import valkey
from shared.store.live import keys


@dataclass(frozen=True, slots=True)
class Waiting:
    searching: int  # clients searching now
    chosen: list[str]  # the mitras to push, each now marked for the window


def choose_waiting(cutoff_ms: int, now_ms: int, exclude: str, window_ms: int) -> Waiting:
    """Every available mitra without an open stream and without a "waiting" push in the
    window, marked in the same step (shared/lua/push_waiting.lua)."""
    searching, chosen = valkey.script("push_waiting")(
        keys=[keys.SEARCHING, keys.AVAILABLE],
        args=[
            cutoff_ms,
            now_ms,
            exclude,
            keys.open_streams("mitra", ""),
            keys.WAITING_PUSH_PREFIX,
            window_ms,
        ],
    )
    return Waiting(searching=int(searching), chosen=[str(m) for m in chosen])


def claim_sends(event_id: str, tokens: Sequence[str], ttl_s: int) -> list[bool]:
    """One SET NX per device token, all in one round trip: True where this delivery won."""
    pipe = valkey.client().pipeline(transaction=False)
    for token in tokens:
        pipe.set(keys.sent_push(event_id, token), "1", nx=True, ex=ttl_s)
    return [bool(won) for won in pipe.execute()]


def release_sends(event_id: str, tokens: Sequence[str]) -> None:
    """Forget the marks of sends that failed transiently, so a redelivery retries them."""
    if tokens:
        valkey.client().delete(*(keys.sent_push(event_id, token) for token in tokens))


def first_chat_push_in_window(session_id: UUID | str, side: str, window_s: int) -> bool:
    """Mark a chat push for this recipient; False when one was marked within the window."""
    return bool(valkey.client().set(keys.chat_push(session_id, side), "1", nx=True, ex=window_s))
