"""Chat messages as the sessions function speaks them (docs/chat.md)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field

from shared.schemas.common import RequestModel, ResponseModel
from shared.web.pagination import Page, PageQuery, page_of

if TYPE_CHECKING:
    from shared.domain.chat import MessageView

MAX_TEXT_CHARS = 4000
# Unicode's bidirectional embedding, override and isolate controls: invisible, and able to
# make the other side read a message in another order than it was written.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible on their own: separators and format characters (zero-width space, joiners, …).
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cf"})


def _message_text(value: str) -> str:
    # Line ends from any platform become "\n"; surrounding whitespace is not part of a
    # message. The only control character kept is the newline: tabs, escapes, bidi
    # overrides and the like would render unpredictably on the other side's phone.
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not 1 <= len(value) <= MAX_TEXT_CHARS:
        raise ValueError(f"must be 1–{MAX_TEXT_CHARS} characters after trimming")
    if any(
        (char != "\n" and unicodedata.category(char) == "Cc") or char in _BIDI_CONTROLS
        for char in value
    ):
        raise ValueError("must not contain control characters other than newlines")
    if all(char == "\n" or unicodedata.category(char) in _INVISIBLE for char in value):
        raise ValueError("must contain a visible character")
    return value


MessageText = Annotated[str, Field(max_length=4 * MAX_TEXT_CHARS), AfterValidator(_message_text)]
ClientMessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class SendMessageIn(RequestModel):
    client_message_id: ClientMessageId = Field(
        description="The app's own id for this message; a retry with it stores nothing new."
    )
    text: MessageText


class ReadIn(RequestModel):
    up_to: UUID = Field(description="The newest message the reader has seen.")


class MessagesQuery(PageQuery):
    since: UUID | None = Field(
        default=None,
        description="Catch-up read: the messages after this one, OLDEST first (no cursor).",
    )


class MessageOut(ResponseModel):
    id: UUID
    session_id: UUID
    seq: int = Field(description="Position in the session (1, 2, …): the order to show.")
    sender: Literal["client", "mitra"]
    text: str | None = Field(description="null once erased (the client deleted the account).")
    sent_at: datetime
    client_message_id: str | None = Field(description="Only on the caller's own messages.")

    @classmethod
    def of(cls, view: MessageView) -> MessageOut:
        return cls.model_validate(view)


class MessagePageOut(Page[MessageOut]):
    @classmethod
    def of(cls, views: list[MessageView], limit: int) -> MessagePageOut:
        """`views` fetched with `limit + 1`. A catch-up read (`since`) has no cursor: the app
        asks again from the last message while a full page comes back."""
        return page_of(cls, views, limit, key=lambda v: (v.sent_at, v.id), item=MessageOut.of)
