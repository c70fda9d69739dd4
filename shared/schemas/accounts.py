"""Client and mitra profiles as the auth function speaks them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.schemas.common import DisplayName, RequestModel, ResponseModel

if TYPE_CHECKING:
    from shared.store.clients import ClientRow
    from shared.store.mitras import MitraRow


class DisplayNameIn(RequestModel):
    display_name: DisplayName


class ClientProfileOut(ResponseModel):
    id: UUID
    display_name: str
    registered: bool
    sign_in_provider: str
    status: Literal["active", "suspended"]

    @classmethod
    def of(cls, row: ClientRow) -> ClientProfileOut:
        return cls.model_validate(row)


class MitraProfileOut(ResponseModel):
    id: UUID
    name: str
    status: Literal["active", "suspended"]
    photo_url: str | None = None

    @classmethod
    def of(cls, row: MitraRow) -> MitraProfileOut:
        return cls(id=row.id, name=row.name, status=row.status, photo_url=row.photo_url)


class AnonymityOut(ResponseModel):
    show_client_display_name: bool
    show_mitra_name: bool
    show_mitra_photo: bool


class PublicConfigOut(ResponseModel):
    heartbeat_interval_s: int
    heartbeat_timeout_s: int
    search_window_s: int
    trial_sessions: int
    anonymity: AnonymityOut
