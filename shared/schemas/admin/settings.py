"""Control-center models: the operator-editable product settings."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt, create_model

from shared.domain.push_text import PushTemplates, Text
from shared.domain.settings import ProductSettings, VersionedSettings
from shared.schemas.common import RequestModel


class AnonymityIn(RequestModel):
    show_client_display_name: StrictBool | None = None
    show_mitra_name: StrictBool | None = None
    show_mitra_photo: StrictBool | None = None


class LocalizedTextIn(RequestModel):
    id: Text | None = None
    en: Text | None = None


PushTemplatesIn = create_model(
    "PushTemplatesIn",
    __base__=RequestModel,
    __doc__="Any subset of the push texts; each language's title and body are sent together.",
    **{kind: (LocalizedTextIn | None, None) for kind in PushTemplates.model_fields},  # type: ignore[call-overload]
)


def _optional_settings_fields() -> dict[str, Any]:
    """Every ProductSettings field, optional, with the same ranges (so they cannot drift)."""
    fields: dict[str, Any] = {}
    for name, info in ProductSettings.model_fields.items():
        if name == "anonymity":
            fields[name] = (AnonymityIn | None, None)
            continue
        if name == "push_templates":
            fields[name] = (PushTemplatesIn | None, None)
            continue
        copy = info._copy()
        copy.default = None
        fields[name] = (info.annotation | None, copy)  # type: ignore[operator]
    return fields


SettingsIn = create_model(
    "SettingsIn",
    __base__=RequestModel,
    __doc__=(
        "Any subset of the settings; fields left out keep their current value. `version`:"
        " the one GET returned; when sent, a newer stored version refuses the write (409)."
    ),
    version=(StrictInt | None, Field(default=None, ge=1, le=2**31 - 1)),
    **_optional_settings_fields(),
)


class SettingsOut(ProductSettings):
    version: int

    @classmethod
    def of(cls, saved: VersionedSettings) -> SettingsOut:
        return cls(version=saved.version, **saved.settings.model_dump())
