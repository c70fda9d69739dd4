"""Sessions as the sessions function speaks them. Each side's view of the other is already
reduced by the anonymity settings in `shared.domain.sessions`; these models only shape it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints

from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page, PageQuery, page_of

if TYPE_CHECKING:
    from shared.domain.sessions import SessionView


class EndSessionIn(RequestModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class MitraListQuery(PageQuery):
    status: Literal["active", "ended"] | None = None


class SessionClientOut(ResponseModel):
    id: UUID | None = Field(description="Shown to the client itself only, never to mitras.")
    display_name: str | None = Field(
        description="null when operators hide it from mitras, or once the client deleted"
        " their account."
    )


class SessionMitraOut(ResponseModel):
    id: UUID | None = Field(description="Shown to the mitra itself only, never to clients.")
    name: str | None = Field(description="null when operators hide it from clients.")
    photo_url: str | None


class StintOut(ResponseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    mitra_id: UUID | None = Field(description="null for clients (docs/anonymity.md).")
    started: datetime = Field(serialization_alias="from")
    ended: datetime | None = Field(serialization_alias="to")


class SessionOut(ResponseModel):
    id: UUID
    status: Literal["active", "ended"]
    client: SessionClientOut
    mitra: SessionMitraOut
    started_at: datetime
    ended_at: datetime | None
    ended_by: Literal["client", "mitra", "operator", "system"] | None
    end_reason: str | None
    history: list[StintOut]

    @classmethod
    def of(cls, view: SessionView) -> SessionOut:
        return cls.model_validate(view)


class SessionPageOut(Page[SessionOut]):
    @classmethod
    def of(cls, views: list[SessionView], limit: int) -> SessionPageOut:
        """`views` fetched with `limit + 1`; the extra one only proves there is more."""
        return page_of(cls, views, limit, key=lambda v: (v.started_at, v.id), item=SessionOut.of)
