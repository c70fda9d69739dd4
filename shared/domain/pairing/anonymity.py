"""What each side of a pairing may see of the other (operator settings; docs/anonymity.md)."""

from __future__ import annotations

from typing import Any

from shared.domain import visibility
from shared.store.mitras import MitraRow


def visible_client(display_name: str | None) -> dict[str, Any]:
    return visibility.client_seen_by_mitra(display_name)


def visible_mitra(mitra: MitraRow) -> dict[str, Any]:
    return visibility.mitra_seen_by_client(mitra.name, mitra.photo_url)
