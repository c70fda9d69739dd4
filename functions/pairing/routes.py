"""Pairing routes: clients ask for a bestie, mitras accept offers; both get single-use tickets
for their event streams (served by the events function, functions/events/)."""

from __future__ import annotations

from shared import ratelimit
from shared.config import get_config
from shared.domain import pairing
from shared.errors import (
    AlreadyInSession,
    AlreadyMatched,
    AlreadySearching,
    AlreadyTaken,
    AtCapacity,
    Expired,
    InvalidRequest,
    NotFound,
    NotOffered,
    NotOnline,
    PaymentRequired,
    RateLimited,
    RegistrationRequired,
    Unavailable,
)
from shared.identity import tickets
from shared.identity.cached_mitra import MITRA_CACHED, CachedMitraCaller
from shared.identity.policies import CLIENT, MITRA, ClientCaller, MitraCaller
from shared.schemas.pairing import (
    AcceptedOut,
    CancelledOut,
    OfferOut,
    OffersOut,
    PairingRequestOut,
    VisibleClientOut,
)
from shared.schemas.streams import StreamTicketOut
from shared.web import Api, Call, Reply

api = Api("pairing", title="Halo Bestie pairing")


@api.post(
    "/api/client/pairing-requests",
    auth=CLIENT,
    response=PairingRequestOut,
    status=201,
    errors=(
        AlreadySearching,
        AlreadyInSession,
        PaymentRequired,
        RegistrationRequired,
        InvalidRequest,
    ),
)
def create_request(call: Call[ClientCaller]) -> Reply:
    """Ask for a bestie: blast to every available mitra, or `no_bestie` at once. At most
    `PAIRING_REQUEST_RATE` per client (429 rate_limited with Retry-After, nothing changed)."""
    caller = call.caller
    ratelimit.hit("pairing-requests", str(caller.client.id), get_config().pairing_request_rate)
    row, created = pairing.create_request(caller.client, call.idempotency_key)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Reply(PairingRequestOut.of(row), status=201, headers=headers)


@api.get(
    "/api/client/pairing-requests/<uuid:request_id>",
    auth=CLIENT,
    response=PairingRequestOut,
    errors=(NotFound,),
)
def get_request(call: Call[ClientCaller]) -> PairingRequestOut:
    """The caller's request and its outcome."""
    caller = call.caller
    view = pairing.get_request(caller.client, call.params["request_id"])
    return PairingRequestOut.of(view.request, view.mitra)


@api.delete(
    "/api/client/pairing-requests/<uuid:request_id>",
    auth=CLIENT,
    response=CancelledOut,
    errors=(NotFound, AlreadyMatched),
)
def cancel_request(call: Call[ClientCaller]) -> CancelledOut:
    """Stop searching."""
    caller = call.caller
    return CancelledOut(status=pairing.cancel(caller.client, call.params["request_id"]))


@api.get("/api/mitra/pairing-requests", auth=MITRA, response=OffersOut)
def open_offers(call: Call[MitraCaller]) -> OffersOut:
    """Requests offered to the caller that are still open."""
    caller = call.caller
    return OffersOut(items=[OfferOut.of(o) for o in pairing.open_offers(caller.mitra.id)])


@api.post(
    "/api/mitra/pairing-requests/<uuid:request_id>/accept",
    auth=MITRA_CACHED,
    response=AcceptedOut,
    errors=(AlreadyTaken, Expired, AtCapacity, NotOffered, NotOnline, NotFound, Unavailable),
)
def accept(call: Call[CachedMitraCaller]) -> AcceptedOut:
    """Take the request: the first mitra wins and the session starts."""
    # Resolved through Valkey, not PostgreSQL: every offered mitra may accept at once.
    match = pairing.accept(call.caller.mitra_id, call.params["request_id"])
    return AcceptedOut(session_id=match.session.id, client=VisibleClientOut(**match.client))


@api.post(
    "/api/mitra/pairing-requests/<uuid:request_id>/decline",
    auth=MITRA,
    status=204,
    errors=(NotOffered, NotFound),
)
def decline(call: Call[MitraCaller]) -> None:
    """Hide the offer."""
    caller = call.caller
    pairing.decline(caller.mitra, call.params["request_id"])


@api.post(
    "/api/client/stream-tickets",
    auth=CLIENT,
    response=StreamTicketOut,
    status=201,
    errors=(RateLimited,),
)
def client_stream_ticket(call: Call[ClientCaller]) -> Reply:
    """A single-use ticket (≤ 60 s) that opens the client's event stream as `?ticket=`."""
    # A ticket is a credential: no cache may keep a copy.
    return Reply(StreamTicketOut.of(tickets.issue(call.caller)), 201, {"Cache-Control": "no-store"})


@api.post(
    "/api/mitra/stream-tickets",
    auth=MITRA,
    response=StreamTicketOut,
    status=201,
    errors=(RateLimited,),
)
def mitra_stream_ticket(call: Call[MitraCaller]) -> Reply:
    """A single-use ticket (≤ 60 s) that opens the mitra's event stream as `?ticket=`."""
    # A ticket is a credential: no cache may keep a copy.
    return Reply(StreamTicketOut.of(tickets.issue(call.caller)), 201, {"Cache-Control": "no-store"})
