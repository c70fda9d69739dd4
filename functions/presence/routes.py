"""Presence routes (filled in by the presence issue)."""

from __future__ import annotations

from shared.web import Api

api = Api("presence", title="Halo Bestie presence")
