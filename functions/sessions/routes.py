"""Sessions routes (filled in by the sessions issue)."""

from __future__ import annotations

from shared.web import Api

api = Api("sessions", title="Halo Bestie sessions")
