"""Every SSE frame a test reads is one its AsyncAPI document describes.

`FrameCheck(base_url, audience)` fetches `/api/<audience>/asyncapi.json` once; `problem(frame)`
answers why a frame does not match it (unknown event type, payload failing its schema, or
envelope type/id differing from the frame's `event:`/`id:`), or None. Stream helpers collect
the problems in their reader threads and the fixture fails the test at teardown."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import jsonschema


class FrameCheck:
    def __init__(self, base_url: str, audience: str) -> None:
        self.base_url, self.audience = base_url, audience
        self._validators: dict[str, jsonschema.Draft202012Validator] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, jsonschema.Draft202012Validator]:
        with self._lock:
            if self._validators is None:
                with httpx.Client(base_url=self.base_url, timeout=30) as plain:
                    document = plain.get(f"/api/{self.audience}/asyncapi.json").json()
                components = document["components"]
                self._validators = {
                    message["name"]: jsonschema.Draft202012Validator(
                        dict(message["payload"], components=components),
                        format_checker=jsonschema.FormatChecker(),
                    )
                    for message in components["messages"].values()
                }
            return self._validators

    def problem(self, frame: Any) -> str | None:
        if not frame.event or frame.event == "message" or frame.event.startswith("test."):
            return None  # a keep-alive line, or a test's own synthetic event
        validator = self._load().get(frame.event)
        if validator is None:
            return f"{self.audience}: event {frame.event!r} is not in the AsyncAPI document"
        try:
            payload = json.loads(frame.data)
        except ValueError:
            return f"{self.audience}: {frame.event} data is not JSON"
        errors = [e.message for e in validator.iter_errors(payload)]
        if errors:
            return f"{self.audience}: {frame.event} payload: {errors[:3]}"
        if (payload.get("type"), payload.get("id")) != (frame.event, frame.id or None):
            return f"{self.audience}: {frame.event} envelope type/id differ from the frame's"
        return None
