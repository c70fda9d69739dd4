"""What each side of a session sees of the other: the one rule, used by every payload that
carries the other party (pairing and session responses, stream events and snapshots).

- A field the operators hide (settings `anonymity`) is `null`, never a stand-in word: the apps
  render their own, localised placeholder ("Bestie", "Klien"), and a client can tell "hidden"
  from a real name.
- Neither side ever sees the other's internal id. A client needs no handle on a mitra (it
  addresses sessions, not people), and a stable id would let it recognise a mitra across
  sessions while the names are hidden; a mitra never gets a handle on a client either.
  Session history shows who served when to operators only (docs/anonymity.md).
- Pushes name no one at all (shared.domain.push_text): a lock screen is not private.
"""

from __future__ import annotations

from typing import Any

from shared.domain import settings


def client_seen_by_mitra(display_name: str | None) -> dict[str, Any]:
    shown = settings.current().anonymity.show_client_display_name
    return {"display_name": display_name if shown else None}


def mitra_seen_by_client(name: str | None, photo_url: str | None) -> dict[str, Any]:
    anonymity = settings.current().anonymity
    return {
        "name": name if anonymity.show_mitra_name else None,
        "photo_url": photo_url if anonymity.show_mitra_photo else None,
    }
