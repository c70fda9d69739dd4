"""Pairing: a client's request is blasted to every available mitra; the first to accept wins.

Valkey arbitrates the race and PostgreSQL records the outcome:

- **blast** (`shared/lua/blast.lua`, one round trip, O(log M)): counts the available mitras
  (`presence:available`, maintained by presence and the claim scripts), stores the request's
  live state and indexes it in `pairing:searching`; one broadcast publish tells every
  instance's event hub, which delivers it to its own available mitras. Nothing per mitra is
  written, in Valkey or PostgreSQL.
- **offered** = every mitra available while the request searches (also one who becomes
  available after the blast), minus those who declined and a reroute's current mitra.
- **claim** (`shared/lua/claim.lua`, one round trip): checks that eligibility and takes the
  request and one unit of the mitra's capacity in a single atomic step.
- **match** (one PostgreSQL transaction): session + assignment, one trial session or credit
  consumed (ledger reference unique per session), request marked matched. If that
  transaction fails, the claim is undone (`shared/lua/unclaim.lua`): the request is searching
  again (or expired, if its window closed meanwhile) and the mitra gets its unit back. So a
  claim never outlives a failed match, and a session never exists without its claim. A
  process that dies between claim and match leaves a claim the sweeper undoes (`sweep`,
  after `STUCK_CLAIM_S`).
- **close** (`shared/lua/close_request.lua`): cancel, or expiry once the window is over —
  lazily on every read and durably by the sweeper. PostgreSQL's `WHERE status = 'searching'`
  makes each close, and its events, happen once.

The modules, by seam: `anonymity` (what each side sees of the other), `requests` (the
client side: create, blast, read, cancel), `matching` (the mitra side: offers, accept,
decline), `closing` (cancel/expiry and the sweeper's step), `snapshots` (what an event
stream starts with). Every Valkey key and script call is in `shared.store.live.requests`.
"""

from shared.domain.pairing.anonymity import visible_client, visible_mitra
from shared.domain.pairing.closing import STUCK_CLAIM_S, sweep
from shared.domain.pairing.matching import Match, accept, decline, open_offers
from shared.domain.pairing.requests import (
    RequestView,
    cancel,
    cancel_open_request,
    create_request,
    get_request,
    insert_searching,
    offer,
)
from shared.domain.pairing.snapshots import client_snapshot, mitra_snapshot

__all__ = [
    "STUCK_CLAIM_S",
    "Match",
    "RequestView",
    "accept",
    "cancel",
    "cancel_open_request",
    "client_snapshot",
    "create_request",
    "decline",
    "get_request",
    "insert_searching",
    "mitra_snapshot",
    "offer",
    "open_offers",
    "sweep",
    "visible_client",
    "visible_mitra",
]
