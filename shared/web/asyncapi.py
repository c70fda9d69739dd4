"""AsyncAPI 3.0 documents of the event streams, one per audience, built from the event
models (shared.schemas.events) the way the OpenAPI documents are built from the route
tables. Served beside them: `GET /api/{client,mitra}/asyncapi.json` (auth function) and
`GET /api/admin/asyncapi.json` (admin function).

Why AsyncAPI and not OpenAPI 3.1: an SSE stream is one long GET whose body is many typed
messages. OpenAPI can only say `text/event-stream` and a string (its `webhooks` are requests
*we* send to *their* URL, which these are not); AsyncAPI names a channel, the operation of
receiving on it, and each message with its own payload schema, which is what the app teams'
generators and the tests need.

Each message's payload is the JSON of one frame's `data:` line: the envelope
`{id, type, at, data}` whose `type` is the frame's `event:` name and `data` the event's
model. The envelope `id` is also the frame's `id:` (for `Last-Event-ID`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.web.api import Api, Call

_TITLES = {
    "client": "Halo Bestie client events",
    "mitra": "Halo Bestie mitra events",
    "admin": "Halo Bestie control center events",
}


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_document(audience: str) -> dict[str, Any]:
    from shared.schemas.events import STREAMS  # first document request, not cold start

    path, event_types = STREAMS[audience]
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channel_messages: dict[str, Any] = {}
    for event_type, (model, summary) in event_types.items():
        key = event_type.replace(".", "_")
        messages[key] = {
            "name": event_type,
            "title": event_type,
            "summary": summary,
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["id", "type", "at", "data"],
                "properties": {
                    "id": {"type": "string", "description": "Also the frame's `id:`"},
                    "type": {"const": event_type, "description": "Also the frame's `event:`"},
                    "at": {"type": "string", "format": "date-time"},
                    "data": _schema(model, schemas),
                },
            },
        }
        channel_messages[key] = {"$ref": f"#/components/messages/{key}"}
    channel = f"{audience}Events"
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": _TITLES[audience],
            "version": "1.0.0",
            "description": (
                f"`GET {path}` is a `text/event-stream`: a `snapshot` (or the dashboard) "
                "first, then live events; `: keep-alive` comments between them; "
                "`Last-Event-ID` honoured where it can be. Each frame: `id:`, `event:` "
                "(the message name) and one `data:` line, the message payload. Hidden "
                "fields of the other party are null (docs/anonymity.md)."
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            channel: {
                "address": path,
                "title": f"The {audience} event stream",
                "messages": channel_messages,
            }
        },
        "operations": {
            f"receive{audience.capitalize()}Events": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [
                    {"$ref": f"#/channels/{channel}/messages/{key}"} for key in channel_messages
                ],
            }
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def serve(api: Api, audiences: tuple[str, ...]) -> None:
    """Add `GET /api/<audience>/asyncapi.json` for each audience to the function's table."""
    from shared.identity.policies import OPEN

    cache: dict[str, dict[str, Any]] = {}
    for audience in audiences:

        def document(call: Call[None], audience: str = audience) -> dict[str, Any]:
            if audience not in cache:
                cache[audience] = build_document(audience)
            return cache[audience]

        document.__name__ = f"asyncapi_{audience}"
        api.get(
            f"/api/{audience}/asyncapi.json", auth=OPEN, summary="The event streams' AsyncAPI 3.0"
        )(document)
