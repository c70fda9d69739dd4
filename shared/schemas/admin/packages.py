"""Control-center models: session packages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import Field, StrictBool, StrictInt, model_validator

from shared.schemas.admin.fields import no_nulls
from shared.schemas.common import Int32, RequestModel
from shared.schemas.payments import PackageOut as ClientPackageOut
from shared.web.pagination import Page

if TYPE_CHECKING:
    from shared.store.packages import PackageRow

PackageName = Annotated[str, Field(min_length=1, max_length=64)]
Sessions = Annotated[StrictInt, Field(ge=1, le=100)]
PriceIdr = Annotated[StrictInt, Field(ge=0, le=100_000_000, description="whole rupiah")]


# What the apps see of a package (a docstring would add a description to the document).
class PackageOut(ClientPackageOut):
    active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PackageRow) -> PackageOut:
        return cls.model_validate(row)


class PackageCreateIn(RequestModel):
    name: PackageName
    sessions: Sessions
    price: PriceIdr
    active: StrictBool = True
    sort_order: Int32 = 0


class PackagePatchIn(RequestModel):
    name: PackageName | None = None
    sessions: Sessions | None = None
    price: PriceIdr | None = None
    active: StrictBool | None = None
    sort_order: Int32 | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        no_nulls(self)
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class PackagePage(Page[PackageOut]):
    pass
