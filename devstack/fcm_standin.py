"""A local stand-in for FCM HTTP v1 (dev stack and tests only, never deployed).

FCM has no emulator. This server speaks the one call the notifier makes,
``POST /v1/projects/{project}/messages:send``, over real HTTP:

* an OAuth bearer is required (``Authorization: Bearer <anything>``; the notifier sends a
  static local token when ``FCM_API_BASE`` is loopback, see shared/fcm.py) — 401
  UNAUTHENTICATED otherwise;
* the v1 request shape is validated: a JSON object whose only keys are ``message`` (and
  ``validate_only``); the message targets exactly one ``token``; ``notification`` holds
  string ``title``/``body``; every ``data`` value is a string; ``android.priority`` is
  NORMAL or HIGH and ``android.ttl`` a duration like ``"30s"``; ``apns``/``webpush``
  headers are strings; unknown fields are refused — each with FCM's 400 INVALID_ARGUMENT
  error shape;
* tokens marked through ``POST /_standin/unregister`` answer 404 UNREGISTERED, tokens
  marked through ``POST /_standin/invalid`` 400 INVALID_ARGUMENT naming ``message.token``,
  and ``POST /_standin/fail-next {"count", "status"}`` makes the next sends fail with 503
  UNAVAILABLE / 500 INTERNAL / 429 QUOTA_EXCEEDED;
* every accepted send is recorded; ``GET /_standin/messages[?token=]`` returns them,
  ``POST /_standin/reset`` forgets everything.

Run alone with ``python -m devstack.fcm_standin --port 8091``.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import uuid
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

HOST = "127.0.0.1"
DEFAULT_PORT = 8091
_DURATION = re.compile(r"^\d{1,10}(\.\d{1,9})?s$")
_MESSAGE_KEYS = {
    "name",
    "data",
    "notification",
    "android",
    "webpush",
    "apns",
    "fcm_options",
    "token",
    "topic",
    "condition",
}
_FAILURES = {
    503: ("UNAVAILABLE", "The service is currently unavailable."),
    500: ("INTERNAL", "Internal error encountered."),
    429: ("QUOTA_EXCEEDED", "Quota exceeded for quota metric 'Send requests'."),
}


class _Quiet(WSGIRequestHandler):
    """No access-log line per send: a 1,000-mitra fan-out would flood the console."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Invalid(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
    ]
    if extra.get("field"):
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": extra["field"], "description": message}],
            }
        )
    status_name = {404: "NOT_FOUND", 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED"}.get(
        status, code
    )
    body = {
        "error": {"code": status, "message": message, "status": status_name, "details": details}
    }
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _strings(value: Any, where: str) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Invalid(f"{where} must map strings to strings", where)


def validate(body: Any) -> dict[str, Any]:
    """The message of a v1 send request, or Invalid naming the first problem."""
    if not isinstance(body, dict) or set(body) - {"message", "validate_only"}:
        raise Invalid("Invalid JSON payload received. Unknown name at top level.")
    message = body.get("message")
    if not isinstance(message, dict):
        raise Invalid("message is required", "message")
    unknown = set(message) - _MESSAGE_KEYS
    if unknown:
        raise Invalid(f"Invalid JSON payload received. Unknown name {sorted(unknown)[0]!r}")
    targets = [k for k in ("token", "topic", "condition") if k in message]
    if targets != ["token"] or not isinstance(message["token"], str) or not message["token"]:
        raise Invalid("The message must target exactly one registration token", "message.token")
    if "data" in message:
        _strings(message["data"], "message.data")
    notification = message.get("notification")
    if notification is not None:
        if not isinstance(notification, dict) or set(notification) - {"title", "body", "image"}:
            raise Invalid("message.notification has unknown fields", "message.notification")
        _strings(notification, "message.notification")
    android = message.get("android")
    if android is not None:
        if not isinstance(android, dict):
            raise Invalid("message.android must be an object", "message.android")
        if android.get("priority", "NORMAL") not in ("NORMAL", "HIGH"):
            raise Invalid("message.android.priority must be NORMAL or HIGH", "message.android")
        if "ttl" in android and not _DURATION.fullmatch(str(android["ttl"])):
            raise Invalid("message.android.ttl must be a duration like '30s'", "message.android")
    for block in ("apns", "webpush"):
        section = message.get(block)
        if section is not None:
            if not isinstance(section, dict):
                raise Invalid(f"message.{block} must be an object", f"message.{block}")
            if "headers" in section:
                _strings(section["headers"], f"message.{block}.headers")
    return message


class FcmStandin:
    """The stand-in server; in-process for tests and `nox -s dev`."""

    def __init__(self, port: int = DEFAULT_PORT) -> None:
        self._port = port
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._attempts: dict[str, int] = {}
        self._unregistered: set[str] = set()
        self._invalid: set[str] = set()
        self._failures: list[int] = []
        self._server: BaseWSGIServer | None = None
        self._urls = Map(
            [
                Rule("/v1/projects/<project>/messages:send", methods=["POST"], endpoint="send"),
                Rule("/_standin/messages", methods=["GET"], endpoint="messages"),
                Rule("/_standin/unregister", methods=["POST"], endpoint="unregister"),
                Rule("/_standin/invalid", methods=["POST"], endpoint="invalid"),
                Rule("/_standin/fail-next", methods=["POST"], endpoint="fail_next"),
                Rule("/_standin/reset", methods=["POST"], endpoint="reset"),
            ]
        )

    @property
    def base_url(self) -> str:
        port = self._server.server_port if self._server is not None else self._port
        return f"http://{HOST}:{port}"

    def start(self) -> FcmStandin:
        if self._server is None:
            self._server = make_server(
                HOST, self._port, self._wsgi, threaded=True, request_handler=_Quiet
            )
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fcm-standin",
                daemon=True,
            ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- python helpers (the same as the control endpoints) ------------------------------------

    def received(self, token: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self._received if token is None or m["message"]["token"] == token]

    def attempts(self, token: str) -> int:
        """Well-formed send requests for the token, whatever the answer."""
        with self._lock:
            return self._attempts.get(token, 0)

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def unregister(self, *tokens: str) -> None:
        with self._lock:
            self._unregistered.update(tokens)

    # -- HTTP ----------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, params = self._urls.bind_to_environ(environ).match()
            response = getattr(self, f"_on_{endpoint}")(request, **params)
        except HTTPException as exc:
            response = _error(exc.code or 500, "INVALID_ARGUMENT", exc.description or "")
        return response(environ, start_response)

    def _on_send(self, request: Request, project: str) -> Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _error(401, "THIRD_PARTY_AUTH_ERROR", "Request is missing an OAuth bearer.")
        try:
            message = validate(json.loads(request.get_data() or b"null"))
        except ValueError:
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        except Invalid as problem:
            return _error(400, "INVALID_ARGUMENT", str(problem), field=problem.field)
        token = message["token"]
        with self._lock:
            self._attempts[token] = self._attempts.get(token, 0) + 1
            failure = self._failures.pop(0) if self._failures else None
            if failure is None and token in self._unregistered:
                return _error(404, "UNREGISTERED", "Requested entity was not found.")
            if failure is None and token in self._invalid:
                return _error(
                    400,
                    "INVALID_ARGUMENT",
                    "The registration token is not a valid FCM registration token",
                    field="message.token",
                )
            if failure is None:
                name = f"projects/{project}/messages/{uuid.uuid4().hex}"
                self._received.append({"name": name, "message": message})
        if failure is not None:
            code, text = _FAILURES.get(failure, _FAILURES[503])
            return _error(failure, code, text)
        return Response(json.dumps({"name": name}), mimetype="application/json")

    def _on_messages(self, request: Request) -> Response:
        token = request.args.get("token")
        body: dict[str, Any] = {"messages": self.received(token)}
        if token is not None:
            body["attempts"] = self.attempts(token)
        return Response(json.dumps(body), mimetype="application/json")

    def _tokens(self, request: Request) -> list[str]:
        body = request.get_json(silent=True) or {}
        tokens = body.get("tokens") if isinstance(body, dict) else None
        return [t for t in tokens or [] if isinstance(t, str)]

    def _on_unregister(self, request: Request) -> Response:
        self.unregister(*self._tokens(request))
        return Response(status=204)

    def _on_invalid(self, request: Request) -> Response:
        with self._lock:
            self._invalid.update(self._tokens(request))
        return Response(status=204)

    def _on_fail_next(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        count = int(body.get("count", 1))
        status = int(body.get("status", 503))
        with self._lock:
            self._failures.extend([status] * max(0, min(count, 1000)))
        return Response(status=204)

    def _on_reset(self, request: Request) -> Response:
        with self._lock:
            self._received.clear()
            self._attempts.clear()
            self._unregistered.clear()
            self._invalid.clear()
            self._failures.clear()
        return Response(status=204)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    standin = FcmStandin(parser.parse_args().port).start()
    print(f"FCM HTTP v1 stand-in on {standin.base_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
