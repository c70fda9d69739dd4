"""Payments routes (filled in by the payments issue)."""

from __future__ import annotations

from shared.web import Api

api = Api("payments", title="Halo Bestie payments")
