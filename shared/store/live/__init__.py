"""Live state: every Valkey key and every Lua script call, behind one owner.

PostgreSQL is the system of record; Valkey holds the fast, rebuildable state
(docs/valkey-keys.md). Key names live in `keys`; each Lua script of shared/lua/ has exactly
one wrapper here, which builds its KEYS in the one fixed order `keys` describes and turns
its reply into a named result. The domain (`shared.domain`) calls these functions and never
the Valkey client.

| module | state |
|---|---|
| `keys` | every key name and builder, and the KEYS order rule |
| `presence` | heartbeats, the UID cache, `presence:available`, reconciliation of load/capacity |
| `capacity` | taking and releasing one unit of a mitra's capacity, overrides |
| `requests` | a pairing request's live state: blast, claim, decline, unclaim, close |
| `streams` | which recipients have an open event stream |
| `pushes` | push collapse and delivery marks |
| `identity` | revocation marks, seen/due lists, erased-account markers |
| `tickets` | single-use stream tickets and the tickets each caller holds |
| `dashboard` | the dashboard's live figures, the sweeper's last run |
| `settings` | the current operator settings |
| `pubsub` | publishing several live events in one round trip |
"""

from __future__ import annotations

from shared import valkey


def ping() -> None:
    """Readiness: Valkey answers."""
    valkey.client().ping()
