"""Stream tickets: how a browser's native `EventSource`, which cannot send `Authorization`,
opens an event stream without putting a long-lived token in a URL.

A caller with a valid token asks for a ticket (`POST /api/{admin,client,mitra}/stream-tickets`)
and opens the stream with `?ticket=`. A ticket is 256 random bits, **single use** (redeemed
with `GETDEL`, so two requests racing with one ticket cannot both win), lives at most
`STREAM_TICKET_TTL_S` (≤ 60 s) and never longer than the token it was issued against, and is
bound to its audience: it is stored under `stream-ticket:<audience>:<sha256(ticket)>` (the
ticket itself is never stored, so a copy of Valkey opens nothing), and a stream looks only
under its own audience.

A ticket records who the token proved, no more: the operator id, password stamp and token
expiry; or the Firebase uid, sign-in provider and token expiry. Redeeming it then resolves
the caller exactly as the token would have — the same row reads, the same suspension and role
checks, `401`/`403` alike — so a ticket adds no way in that the token did not have.

`STREAMS` wraps a route's token policy: `?ticket=` in place of the header, the header still
works (native apps, fetch-streaming), and `guard(caller)` re-checks an open stream's caller.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from flask import Request

from shared import db, ratelimit
from shared.config import get_config
from shared.errors import Unauthenticated
from shared.identity.firebase import FirebaseUser
from shared.identity.operators import RANK, VIEWER, Operator, OperatorCaller, password_stamp
from shared.identity.policies import CLIENT, MITRA, Client, ClientCaller, Mitra, MitraCaller
from shared.store import clients, mitras, operators
from shared.store.clients import ClientRow
from shared.store.live import keys
from shared.store.live import tickets as live
from shared.store.mitras import MitraRow

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.engine import Connection

_TICKET = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)

Caller = OperatorCaller | ClientCaller | MitraCaller


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    ticket: str
    expires_at: datetime


def audience_of(caller: Caller) -> str:
    if isinstance(caller, OperatorCaller):
        return "admin"
    return "client" if isinstance(caller, ClientCaller) else "mitra"


def issue(caller: Caller) -> IssuedTicket:
    """A new single-use ticket for the caller's audience (rate-limited per caller)."""
    config = get_config()
    audience, subject = audience_of(caller), _subject(caller)
    # Counted per caller under a digest: a Firebase uid is personal data and never a key name.
    ratelimit.hit(
        f"stream-tickets:{audience}", keys.digest(subject["who"]), config.stream_ticket_rate
    )
    now = time.time()
    lifetime = float(config.stream_ticket_ttl_s)
    if subject["exp"] is not None:
        lifetime = min(lifetime, subject["exp"] - now)
    if lifetime < 1:
        raise Unauthenticated("The token is about to expire: refresh it first.")
    ticket = secrets.token_urlsafe(32)
    live.store(
        audience,
        ticket,
        subject["who"],
        json.dumps(subject),
        lifetime_ms=int(lifetime * 1000),
        held_ms=int(float(config.stream_ticket_ttl_s) * 1000) + 1000,
    )
    return IssuedTicket(ticket=ticket, expires_at=datetime.fromtimestamp(now + lifetime, UTC))


def redeem(audience: str, ticket: str) -> dict[str, Any]:
    """The subject a ticket was issued for, once; `Unauthenticated` for a used, expired,
    forged or other-audience ticket."""
    raw = live.take(audience, ticket) if _TICKET.fullmatch(ticket) else None
    if raw is None:
        raise Unauthenticated("The stream ticket is used, expired or not for this stream.")
    subject: dict[str, Any] = json.loads(raw)
    if subject["exp"] is not None and subject["exp"] <= time.time():
        raise Unauthenticated()
    return subject


def discard_all(audience: str, who: str) -> None:
    """Drop every unredeemed ticket issued to `who` (an erased account's uid must not stay
    in Valkey for the tickets' lifetime)."""
    live.discard_all(audience, who)


def _subject(caller: Caller) -> dict[str, Any]:
    if isinstance(caller, OperatorCaller):
        operator = caller.operator
        return {
            "who": str(operator.id),
            "pwd": password_stamp(operator),
            "exp": caller.expires_at,
        }
    user = caller.user
    return {"who": user.uid, "provider": user.sign_in_provider, "exp": user.expires_at}


# -- the policy of stream routes ------------------------------------------------------------


class Streaming:
    """A stream route's policy: the wrapped token policy, or `?ticket=` in its place."""

    scheme: str | None
    alt_scheme = "streamTicket"

    def __init__(self, inner: Operator | Client | Mitra, audience: str) -> None:
        self.inner = inner
        self.audience = audience
        self.scheme = inner.scheme
        self.role = inner.role
        self.description = f"{inner.description} Or `?ticket=` from the stream-tickets route."
        self.raises = inner.raises

    def __call__(self, request: Request) -> Caller:
        ticket = request.args.get("ticket")
        if ticket is None:
            return self.inner(request)
        subject = redeem(self.audience, ticket)
        if isinstance(self.inner, Operator):
            return self._operator(self.inner, subject)
        user = FirebaseUser(
            uid=subject["who"],
            sign_in_provider=subject.get("provider", "unknown"),
            phone_number=None,
            email=None,
            expires_at=subject["exp"],
        )
        return self.inner.admit(user)

    @staticmethod
    def _operator(policy: Operator, subject: dict[str, Any]) -> OperatorCaller:
        with db.read() as connection:
            try:
                operator = operators.by_id(connection, subject["who"])
            except ValueError:
                raise Unauthenticated() from None
        if operator is None or operator.suspended or password_stamp(operator) != subject["pwd"]:
            raise Unauthenticated()
        return policy.admit(operator, subject["exp"])

    def guard(self, caller: Caller) -> Callable[[], str | None]:
        """A re-check for an open stream: the reason it must end, or None. One row read per
        call; the stream calls it every `STREAM_RECHECK_S`."""
        if isinstance(caller, OperatorCaller):
            assert isinstance(self.inner, Operator)
            return _operator_guard(caller, RANK[self.inner.min_role])
        if isinstance(caller, ClientCaller):
            return _client_guard(caller)
        return _mitra_guard(caller)


def _expired(expires_at: int | None) -> bool:
    return expires_at is not None and expires_at <= time.time()


def _operator_guard(caller: OperatorCaller, min_rank: int) -> Callable[[], str | None]:
    stamp = password_stamp(caller.operator)

    def check() -> str | None:
        if _expired(caller.expires_at):
            return "token_expired"
        with db.read() as connection:
            row = operators.by_id(connection, caller.operator.id)
        if row is None or row.suspended:
            return "suspended"
        if password_stamp(row) != stamp:
            return "password_changed"
        if RANK.get(row.role, 0) < min_rank:
            return "role_changed"
        return None

    return check


def _client_guard(caller: ClientCaller) -> Callable[[], str | None]:
    return ProfileGuard(caller.user, clients, caller.client.id)


def _mitra_guard(caller: MitraCaller) -> Callable[[], str | None]:
    return ProfileGuard(caller.user, mitras, caller.mitra.id)


class ProfileStore(Protocol):
    """What a stream's re-check reads of its caller's profile: shared.store.clients or
    shared.store.mitras."""

    __name__: str

    def by_id(self, connection: Connection, profile_id: UUID, /) -> ClientRow | MitraRow | None: ...

    def by_ids(
        self, connection: Connection, ids: list[UUID], /
    ) -> Mapping[UUID, ClientRow | MitraRow]: ...


class ProfileGuard:
    """Clients and mitras lose an open stream the same ways: the token expires, the profile
    is gone or now belongs to another Firebase user, or the profile is suspended.

    Called, it re-checks one stream with one row read; `check_many` re-checks many streams
    of one table with one read (shared.web.sse.run_guards groups guards by `batch_key`): at
    1,000 streams and STREAM_RECHECK_S = 20 that is one query a second instead of fifty."""

    __slots__ = ("_profile_id", "_store", "_user", "batch_key")

    def __init__(self, user: FirebaseUser, store: ProfileStore, profile_id: UUID) -> None:
        self._user = user
        self._store = store
        self._profile_id = profile_id
        self.batch_key = store.__name__

    def __call__(self) -> str | None:
        if _expired(self._user.expires_at):
            return "token_expired"
        with db.read() as connection:
            row = self._store.by_id(connection, self._profile_id)
        return self._verdict(row)

    def check_many(self, guards: list[ProfileGuard]) -> list[str | None]:
        """The verdicts of `guards` (all of this one's `batch_key`), in order."""
        expired = [_expired(guard._user.expires_at) for guard in guards]
        ids = [guard._profile_id for guard, gone in zip(guards, expired, strict=True) if not gone]
        rows: Mapping[UUID, ClientRow | MitraRow] = {}
        if ids:
            with db.read() as connection:
                rows = self._store.by_ids(connection, ids)
        return [
            "token_expired" if gone else guard._verdict(rows.get(guard._profile_id))
            for guard, gone in zip(guards, expired, strict=True)
        ]

    def _verdict(self, row: ClientRow | MitraRow | None) -> str | None:
        if row is None or row.firebase_uid != self._user.uid:
            return "signed_out"
        return "suspended" if row.suspended else None


VIEWER_STREAM = Streaming(VIEWER, "admin")
CLIENT_STREAM = Streaming(CLIENT, "client")
MITRA_STREAM = Streaming(MITRA, "mitra")
