"""Verified Firebase ID tokens, remembered per process until they expire.

A phone sends the same ID token for up to an hour, every heartbeat interval; verifying it
each time (RS256 in production, a JWT decode and the SDK's claim checks always) is the
largest cost of a heartbeat that is ours. What verification establishes — this exact token
was signed by Google for this project and names this uid — stays true until the token's
`exp`, so the verified facts are kept until then:

- keyed by SHA-256 of the token (the process never holds a bearer token in a table, and a
  different token can only hit another's entry through a SHA-256 collision);
- kept until the token's own `exp` and never past it (nor longer than `MAX_AGE_S`); a
  token without a usable `exp` is never kept;
- only successes are kept: a refused token is verified again on its next use;
- at most `MAX_ENTRIES` tokens, least recently used dropped first.

Revocation and suspension are unaffected: they were never part of token verification
(`verify_id_token` does not ask Firebase about revocation, see `shared.identity.revocation`).
Every route still runs its policy's checks after this — `revocation.admit` and the profile
read for client and mitra routes, and for the heartbeat its Valkey UID cache, which
revocation and suspension delete — on every request, cached token or not.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

MAX_ENTRIES = 20_000  # ~0.5 KB each: ~10 MB at worst, far more callers than one instance has
MAX_AGE_S = 3600  # Firebase ID tokens live an hour; nothing is kept longer whatever `exp` says

V = TypeVar("V")


class TokenCache(Generic[V]):
    """A bounded LRU of verified tokens, each entry dropped at its token's expiry."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        *,
        max_age_s: float = MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_entries = max_entries
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, tuple[float, V]] = OrderedDict()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, token: str) -> V | None:
        """The verified value of this token, or None (never seen, refused, or expired)."""
        key = self._key(token)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            until, value = entry
            if now >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, token: str, value: V, expires_at: int | None) -> None:
        """Remember a token that verified, until `expires_at` (epoch seconds) at the latest."""
        if expires_at is None or self._max_entries <= 0:
            return
        now = self._clock()
        until = min(float(expires_at), now + self._max_age_s)
        if until <= now:
            return
        key = self._key(token)
        with self._lock:
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
