"""What a push says on a lock screen, in Indonesian and English, editable by operators.

A lock screen is public and this is a mental-health service, so every default is neutral:
no names of the other person, no word about counselling or feelings, only that something
in the app needs attention. Operators may reword them in the control center (settings
`push_templates`); the rules below keep edits plain text of bounded length, and only the
waiting-clients text may carry its one placeholder, `{count}`.
"""

from __future__ import annotations

import string
import unicodedata
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

Language = Literal["id", "en"]
Kind = Literal[
    "matched",
    "unmatched",
    "session_ended",
    "session_rerouted",
    "session_moved_to_you",
    "session_moved_away",
    "clients_waiting",
    "presence_offline",
    "new_message",
]
PLACEHOLDERS: dict[str, frozenset[str]] = {"clients_waiting": frozenset({"count"})}
_MARKUP = set("<>&*_`[]#\\")


def _plain(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        value = value.strip()
        if not 1 <= len(value) <= limit:
            raise ValueError(f"must be 1–{limit} characters")
        if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in value):
            raise ValueError("must not contain control characters")
        if _MARKUP & set(value) or "://" in value:
            raise ValueError("must be plain text: no markup characters or links")
        return value

    return AfterValidator(check)


Title = Annotated[str, _plain(50)]  # TITLE_MAX
Body = Annotated[str, _plain(180)]  # BODY_MAX


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body


class Localized(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text
    en: Text


def _t(id_title: str, id_body: str, en_title: str, en_body: str) -> Localized:
    return Localized(id=Text(title=id_title, body=id_body), en=Text(title=en_title, body=en_body))


class PushTemplates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matched: Localized = _t(
        "Halo Bestie",
        "Kamu sudah terhubung. Buka aplikasi untuk mulai mengobrol.",
        "Halo Bestie",
        "You are connected. Open the app to start chatting.",
    )
    unmatched: Localized = _t(
        "Halo Bestie",
        "Belum ada yang tersedia saat ini. Coba lagi sebentar lagi.",
        "Halo Bestie",
        "No one is available right now. Please try again in a moment.",
    )
    session_ended: Localized = _t(
        "Halo Bestie", "Obrolanmu telah berakhir.", "Halo Bestie", "Your chat has ended."
    )
    session_rerouted: Localized = _t(
        "Halo Bestie",
        "Obrolanmu berlanjut. Buka aplikasi.",
        "Halo Bestie",
        "Your chat continues. Open the app.",
    )
    session_moved_to_you: Localized = _t(
        "Halo Bestie",
        "Ada obrolan yang dialihkan kepadamu.",
        "Halo Bestie",
        "A chat was passed to you.",
    )
    session_moved_away: Localized = _t(
        "Halo Bestie",
        "Sebuah obrolan dialihkan dari kamu.",
        "Halo Bestie",
        "A chat was moved away from you.",
    )
    clients_waiting: Localized = _t(
        "Halo Bestie",
        "{count} orang sedang menunggu. Buka aplikasi.",
        "Halo Bestie",
        "{count} people are waiting. Open the app.",
    )
    presence_offline: Localized = _t(
        "Halo Bestie",
        "Kamu sekarang offline dan tidak menerima permintaan baru.",
        "Halo Bestie",
        "You are offline now and will not receive new requests.",
    )

    # Never the message, never who sent it: only that the chat has something new.
    new_message: Localized = _t(
        "Halo Bestie",
        "Ada pesan baru untukmu. Buka aplikasi.",
        "Halo Bestie",
        "You have a new message. Open the app.",
    )

    @model_validator(mode="after")
    def _known_placeholders(self) -> Self:
        for kind in type(self).model_fields:
            allowed = PLACEHOLDERS.get(kind, frozenset())
            localized: Localized = getattr(self, kind)
            for language in ("id", "en"):
                text: Text = getattr(localized, language)
                for part in ("title", "body"):
                    used = _placeholders(getattr(text, part))
                    if used is None or not used <= allowed:
                        shown = ", ".join("{" + p + "}" for p in sorted(allowed)) or "none"
                        raise ValueError(
                            f"{kind}.{language}.{part}: placeholders allowed here: {shown}"
                        )
        return self


def _placeholders(template: str) -> set[str] | None:
    """Field names used by a str.format template; None when it does not parse or a field is
    more than a bare `{name}`: a conversion (`!r`) or a format spec (`{count:^999999999}`
    pads to a gigabyte, and the padding was then stripped to pass the length check)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return None
    if any(name is not None and (spec or conversion) for _, name, spec, conversion in fields):
        return None
    return {name for _, name, _, _ in fields if name is not None}


def language_of(locale: str) -> Language:
    """Indonesian for id-* (and Android's legacy `in`), English otherwise."""
    primary = locale.replace("_", "-").split("-", 1)[0].lower()
    return "id" if primary in ("id", "in") else "en"


TITLE_MAX, BODY_MAX = 50, 180


def render(templates: PushTemplates, kind: Kind, locale: str, **values: int) -> Text:
    """The text for a device; never raises. A saved template is within its limits, but a
    placeholder's value may push it over (a 180-character body with `{count}`): the result is
    cut to the limits rather than refused, which would fail the event into redeliveries."""
    text: Text = getattr(getattr(templates, kind), language_of(locale))
    return Text.model_construct(
        title=text.title.format(**values)[:TITLE_MAX], body=text.body.format(**values)[:BODY_MAX]
    )
