"""Presence routes: the mitra's online/offline toggle and the heartbeat hot path."""

from __future__ import annotations

from shared import ratelimit
from shared.config import get_config
from shared.domain import presence
from shared.errors import NotOnline, Suspended
from shared.identity.cached_mitra import MITRA_HEARTBEAT, HeartbeatCaller
from shared.identity.policies import MITRA, MitraCaller
from shared.schemas.presence import PresenceIn, PresenceOut
from shared.web import Api, Call

api = Api("presence", title="Halo Bestie presence")


@api.get("/api/mitra/presence", auth=MITRA, response=PresenceOut, errors=(Suspended,))
def read_presence(call: Call[MitraCaller]) -> PresenceOut:
    """The caller's presence; `offline` as soon as the heartbeats lapsed."""
    caller = call.caller
    return PresenceOut.of(presence.view(caller.mitra))


@api.put(
    "/api/mitra/presence",
    auth=MITRA,
    body=PresenceIn,
    response=PresenceOut,
    errors=(Suspended,),
)
def set_presence(call: Call[MitraCaller, PresenceIn]) -> PresenceOut:
    """Go online or offline; idempotent, logs only real transitions."""
    caller = call.caller
    return PresenceOut.of(presence.set_status(caller.mitra, call.body.status))


@api.post(
    "/api/mitra/presence/heartbeat",
    auth=MITRA_HEARTBEAT,
    status=204,
    errors=(NotOnline, Suspended),
)
def heartbeat(call: Call[HeartbeatCaller]) -> None:
    """Keep the caller online; `409 not_online` when it is offline (toggle off in the app).
    A flood beyond `HEARTBEAT_RATE` per instance → 429 (counted in memory: no extra round
    trip on the hot path)."""
    caller = call.caller
    ratelimit.hit_local("heartbeat", caller.uid, get_config().heartbeat_rate)
    presence.heartbeat(caller.uid, caller.resolve)
