"""Event-stream routes: each open app holds one server-sent event stream, served on asyncio
(shared/web/event_streams.py, docs/pairing.md "Event streams"). The single-use stream tickets
that may open them are issued by the pairing function."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shared.errors import Forbidden
from shared.identity.policies import ClientCaller, MitraCaller
from shared.identity.tickets import CLIENT_STREAM, MITRA_STREAM
from shared.lazy import lazy_module
from shared.web import Api, Call
from shared.web.event_streams import EventStream, event_stream

if TYPE_CHECKING:
    from shared.domain import pairing
else:
    # The snapshots (and the whole pairing domain their package imports) load with the first
    # stream: ≈ 40 ms of this function's cold start otherwise.
    pairing = lazy_module("shared.domain.pairing")

api = Api("events", title="Halo Bestie event streams")


@api.get("/api/client/events", auth=CLIENT_STREAM, stream=True, errors=(Forbidden,))
def client_events(call: Call[ClientCaller]) -> EventStream:
    """The client's live events: a snapshot (open request or active session), then changes.
    `?ticket=` (from `POST /api/client/stream-tickets`) may replace `Authorization`."""
    client_id = call.caller.client.id
    return event_stream(
        "client",
        str(client_id),
        lambda: pairing.client_snapshot(client_id),
        call.request.headers.get("Last-Event-ID"),
        call.guard,
    )


@api.get("/api/mitra/events", auth=MITRA_STREAM, stream=True, errors=(Forbidden,))
def mitra_events(call: Call[MitraCaller]) -> EventStream:
    """The mitra's live events: a snapshot (open offers), then offers and their closing.
    `?ticket=` (from `POST /api/mitra/stream-tickets`) may replace `Authorization`."""
    mitra_id = call.caller.mitra.id
    return event_stream(
        "mitra",
        str(mitra_id),
        lambda: pairing.mitra_snapshot(mitra_id),
        call.request.headers.get("Last-Event-ID"),
        call.guard,
        topics=_offered,
    )


def _offered(snapshot: dict[str, Any]) -> Iterable[str]:
    """The offers a mitra snapshot lists: their closing events must reach this stream like
    those of offers it received live."""
    return [str(offer["request_id"]) for offer in snapshot.get("offers") or ()]
