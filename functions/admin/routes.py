"""Control-center routes (filled in by the control-center issues)."""

from __future__ import annotations

from shared.web import Api

api = Api("admin", title="Halo Bestie control center")
