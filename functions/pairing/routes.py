"""Pairing routes (filled in by the pairing issue)."""

from __future__ import annotations

from shared.web import Api

api = Api("pairing", title="Halo Bestie pairing")
