"""Decoding and checking input from outside: every JSON text, query value and timestamp an
attacker controls goes through here before pydantic, the domain or the database sees it.

The limits (docs/hostile-input.md explains each):

- JSON nesting at most `MAX_DEPTH` (32) levels, counted on the raw text *before* parsing, so
  neither `json`, pydantic nor our own walkers can be driven into deep recursion;
- JSON integers within PostgreSQL `bigint` (at most 19 digits are even looked at, so a
  number of thousands of digits never reaches `int()` and its digit limit);
- no `NaN`, `Infinity`, `-Infinity` and no float that overflows to infinity (`1e400`):
  `jsonb` and `numeric` refuse them, and no field of ours means them;
- no duplicate object keys (which one wins is parser-dependent, a classic smuggling trick);
- text that PostgreSQL can store: no U+0000 and no lone UTF-16 surrogate (`"\\ud800"` is
  valid JSON but no UTF-8 encoding exists for it, and pg8000 fails while sending it);
- timestamps and days from 1900-01-01 up to 2200-01-01 (UTC), with real-world offsets
  (whole minutes, at most ±14:00): Python, pg8000 and `timestamptz` all hold those, and the
  range leaves room for the `± interval` arithmetic queries do.

A refusal is `errors.InvalidRequest` naming the field (dotted path, `body` for the whole
document), answered as `400 invalid_request`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from shared import errors

MAX_DEPTH = 32
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
_MAX_INT_DIGITS = 19  # len(str(2**63)); anything longer is out of range without int()

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)

# The only characters the depth count looks at (found by the regex engine, in one pass).
_SPECIAL = re.compile(r'[\\"\[\]{}]')


class Refused(ValueError):
    """Raised inside the JSON parser's hooks; turned into `InvalidRequest` by `loads`."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def refuse(field: str, error: str, message: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(message, fields=[{"field": field, "error": error}])


# -- JSON -----------------------------------------------------------------------------------


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, without parsing it (brackets inside
    strings do not count). Linear in the text, whatever it holds: a regex that matched
    whole string literals instead went quadratic on an unterminated run of `\\"`."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _SPECIAL.finditer(text):
        at = match.start()
        if at == escaped_at:
            continue
        char = text[at]
        if in_string:
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:  # no need to scan further
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS:
        raise Refused("number_out_of_range", "Integers must fit in 64 bits.")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise Refused("number_out_of_range", "Integers must fit in 64 bits.")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Refused("number_out_of_range", "Numbers must be finite.")
    return value


def _parse_constant(text: str) -> Any:
    raise Refused("number_out_of_range", f"{text} is not a JSON number we accept.")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise Refused("duplicate_key", "An object names the same key twice.")
    return result


def loads(raw: bytes | str, *, field: str = "body") -> Any:
    """Parse untrusted JSON under the limits above, or raise `InvalidRequest` naming
    `field` (or the offending path inside it)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise refuse(field, "invalid_json", "The body is not UTF-8 JSON.") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise refuse(field, "too_deep", f"JSON may nest at most {MAX_DEPTH} levels.")
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_object,
        )
    except Refused as exc:
        raise refuse(field, exc.error, exc.message) from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise refuse(field, "invalid_json", "The body is not valid JSON.") from None
    check_text_tree(data, field)
    return data


# -- text -----------------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """Why PostgreSQL could not store `value` as text, or None."""
    if value.isascii():
        return "nul_character" if "\x00" in value else None
    if "\x00" in value:
        return "nul_character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid_unicode"
    return None


_TEXT_MESSAGES = {
    "nul_character": "Text may not contain NUL characters.",
    "invalid_unicode": "Text must be valid Unicode (no lone surrogates).",
}


def check_text(value: str, field: str) -> None:
    problem = text_problem(value)
    if problem:
        raise refuse(field, problem, _TEXT_MESSAGES[problem])


def check_text_tree(data: Any, field: str = "body") -> None:
    """Every key and string in parsed JSON (depth already bounded) storable as text."""
    if isinstance(data, str):
        check_text(data, field)
    elif isinstance(data, dict):
        for key, value in data.items():
            # A bad key is named by its parent: echoing it back could not be encoded either.
            check_text(key, field)
            check_text_tree(value, key if field == "body" else f"{field}.{key}")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            check_text_tree(item, str(index) if field == "body" else f"{field}.{index}")


def check_query(args: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
    items = args.items() if isinstance(args, Mapping) else args
    for key, value in items:
        check_text(key, "query")
        check_text(value, key)


# -- typed values after validation ----------------------------------------------------------


def check_instant(value: datetime, field: str) -> datetime:
    """`value` if PostgreSQL, pg8000 and our interval arithmetic can all hold it."""
    offset = value.utcoffset()
    if offset is not None and (abs(offset) > MAX_OFFSET or offset % timedelta(minutes=1)):
        raise refuse(field, "invalid_offset", "UTC offsets are whole minutes within ±14:00.")
    try:
        utc = value.astimezone(UTC) if offset is not None else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        utc = EARLIEST - timedelta(days=1)
    if not EARLIEST <= utc < LATEST:
        raise refuse(field, "out_of_range", "Times must lie between 1900 and 2200.")
    return value


def check_day(value: date, field: str) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise refuse(field, "out_of_range", "Days must lie between 1900 and 2200.")
    return value


def check_model(model: BaseModel, prefix: str = "") -> None:
    """The safety net behind every typed request: each value in a validated body or query
    is one the database can hold (text, bigint, timestamp range), whatever its field type
    says. Named by the field's wire name (its alias, e.g. `from`)."""
    for name, info in type(model).model_fields.items():
        wire = info.alias or name
        _check_value(getattr(model, name), f"{prefix}{wire}")
    extra = model.__pydantic_extra__ or {}
    for name, value in extra.items():
        _check_value(value, f"{prefix}{name}")


def _check_value(value: Any, field: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise refuse(field, "number_out_of_range", "Integers must fit in 64 bits.")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise refuse(field, "number_out_of_range", "Numbers must be finite.")
    elif isinstance(value, datetime):
        check_instant(value, field)
    elif isinstance(value, date):
        check_day(value, field)
    elif isinstance(value, BaseModel):
        check_model(value, f"{field}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(item, f"{field}.{key}")
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _check_value(item, f"{field}.{index}")
