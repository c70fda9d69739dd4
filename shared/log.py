"""JSON-lines logging in the shape Cloud Logging reads (`severity`, `message`, trace fields).

Personal data (phone numbers, emails, tokens) is never passed to the logger; the
`redact` filter is a second line of defence that masks anything shaped like one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
trace_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

_BEARER = re.compile(r"(?i)bearer\s+[\w.-]+")
# Credentials that travel in a URL (stream tickets; tokens we refuse but someone may send).
_QUERY_SECRET = re.compile(r"(?i)\b(ticket|token|access_token|id_token|auth)=[^&\s\"']+")
_QUERY_STRING = re.compile(r"\?[^\s\"]*")


# One pass, leftmost match wins: ids and timestamps are matched (and kept) as whole tokens
# before a phone pattern could bite into their digits. A phone is 8–15 digits, optionally
# after `+` or `00`, grouped by single spaces or dashes (or with its area code in brackets),
# and stands alone: no letter, digit, `_` or `-` touches it, so digit runs inside hex or
# dashed ids never qualify.
_PERSONAL = re.compile(
    r"""
    (?P<keep>
        \b[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\b   # UUID
      | \b[0-9A-Fa-f]{16,}\b                                      # hex id (request, trace)
      | \b\d{4}-\d{2}-\d{2}(?:[T\x20]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?  # ISO date/time
    )
    | (?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
    | (?P<phone>
        (?<![\w+-])(?:\+|00)?\d(?:[\x20-]?\d){7,14}(?![\w-])
      | (?<![\w+(-])(?:\+|00)?(?:\d{1,3}[\x20-]?)?\(\d{1,4}\)[\x20-]?\d(?:[\x20-]?\d){4,12}(?![\w-])
    )
    """,
    re.VERBOSE,
)


def _mask(match: re.Match[str]) -> str:
    if match.group("keep"):
        return match.group()
    return "[email]" if match.group("email") else "[phone]"


def redact(text: str) -> str:
    """Mask bearer tokens, credentials in query strings, emails and phone numbers; UUIDs,
    hex ids and timestamps stay."""
    text = _QUERY_SECRET.sub(r"\1=[redacted]", _BEARER.sub("Bearer [redacted]", text))
    return _PERSONAL.sub(_mask, text)


def _field(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": redact(record.getMessage()),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        trace = trace_var.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        fields = getattr(record, "fields", None)
        if fields:
            entry.update({k: _field(v) for k, v in fields.items()})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class QueryStringRedaction(logging.Filter):
    """For request (access) logs: every query string becomes `?[redacted]`. A stream's
    `?ticket=` is a credential, and queries may carry search terms (names, phones)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _QUERY_STRING.sub("?[redacted]", record.getMessage())
        record.args = None
        return True


def redact_request_logs(logger_name: str = "werkzeug") -> None:
    """Install `QueryStringRedaction` on a request logger (werkzeug's servers log one line
    per request, query string included); idempotent."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, QueryStringRedaction) for f in logger.filters):
        logger.addFilter(QueryStringRedaction())


_configured = False


def configure(level: str = "INFO") -> None:
    """Route every logger to one JSON handler on stdout; idempotent."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # `functions-framework --debug` serves with werkzeug, which logs each request line.
    redact_request_logs("werkzeug")
    _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


def log_event(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """Log a message with structured fields (ids, counts, codes — never personal data)."""
    logger.log(level, message, extra={"fields": fields})
