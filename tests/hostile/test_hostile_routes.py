"""The hostile-input layer: every route of every function gets hostile bodies, queries and
headers, as an attacker with a valid token would send them, over real HTTP; after each
one, a *different* user's normal request on the same server must succeed. Never a 5xx,
always the contract's error shape, nothing changed.

Hostile means: lone UTF-16 surrogates (escaped as `\\ud800` in the raw JSON), NUL,
control characters and RTL marks, 100 KB strings, integers far outside bigint and of
thousands of digits, NaN/Infinity/1e400, nesting thousands deep, duplicate keys, and
cursors and time filters that look valid but hold values PostgreSQL, pg8000 or Python
cannot represent (year 0 after the offset, year 10000, 30-digit ids, ±23:59 offsets).

Bounded on purpose (a fixed corpus plus a few Hypothesis examples per route, no deadline):
the whole module runs in well under a minute on the shared test stack.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.web.api import Route
from tests.hostile.support import (
    ROUTES,
    assert_contract_error,
    b64url,
    cursor_of,
    is_admin,
    route_id,
    url,
)

HYPOTHESIS = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)

WRITE_ROUTES = [r for r in ROUTES if r.body is not None]
QUERY_ROUTES = [r for r in ROUTES if r.query is not None and not r.stream]
PLAIN_ROUTES = [r for r in ROUTES if not r.stream]

# -- hostile values ------------------------------------------------------------------------

HOSTILE_CHARS = ["\ud800", "\udfff", "\udbff\u0041", "\x00", "\u202e", "\u200f", "\x01", "\x1b"]
OUT_OF_RANGE_TIMES = [
    "0001-01-01T00:00:00+05:00",  # year 0 once in UTC
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-23:59",  # year 10000 once in UTC
    "9999-12-31T23:59:59.999999-14:00",
    "10000-01-01T00:00:00Z",
    "2026-01-01T00:00:00+23:59:59.999999",
    "0001-01-01",
    "9999-12-31",
    "1899-12-31T23:59:59Z",
]
HUGE_NUMBERS = ["1" + "0" * 5000, "-" + "9" * 5000, str(2**63), str(-(2**63) - 1), "9" * 30]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]


def _json_text(value: Any) -> str:
    """JSON text with `ensure_ascii`, so a lone surrogate goes out as the escape `\\ud800`."""
    return json.dumps(value, ensure_ascii=True)


def _raw_values() -> list[str]:
    """Field values as raw JSON text (some are not representable as Python values)."""
    texts = [_json_text(f"x{char}y") for char in HOSTILE_CHARS]
    texts += [_json_text(t) for t in OUT_OF_RANGE_TIMES]
    texts += [_json_text("x" * 100_000), "[" * 40 + "]" * 40, '{"$gt": ""}']
    return texts + HUGE_NUMBERS + NON_FINITE + [str(2**31), "-1", "1e308"]


RAW_FIELD_VALUES = _raw_values()
# For every field after the first, one of each kind (the full list goes to the first).
SHORT_FIELD_VALUES = [
    _json_text("x\ud800"),
    _json_text("0001-01-01T00:00:00+05:00"),
    "1" + "0" * 5000,
    "9" * 30,
    "NaN",
    "1e400",
]

WHOLE_DOCUMENTS = [
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"a": ' + "1" * 5000 + "}",
    '{"a": NaN}',
    '{"a": Infinity, "b": -Infinity}',
    '{"a": 1e400}',
    '{"a": 1, "a": 2}',
    '{"\\ud800": 1}',
    '"\\ud800"',
    "\u0000",
    '{"a": "\\u0000"}',
    "[" * 33 + "]" * 33,
    '"' + '\\"' * 20000,  # an unterminated string of escaped quotes (a quadratic-scan trap)
]


def _document(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_json_text(k)}: {v}" for k, v in fields.items()) + "}"


def _fields(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return ["x"]
    return [info.alias or name for name, info in model.model_fields.items()] or ["x"]


hostile_text = st.builds(
    lambda a, c, b: _json_text(a + c + b),
    st.text(max_size=8),
    st.sampled_from(HOSTILE_CHARS),
    st.text(max_size=8),
)
hostile_number = st.one_of(
    st.integers(min_value=2**31).map(str),
    st.integers(max_value=-1).map(str),
    st.sampled_from(NON_FINITE + HUGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: _json_text(f)),
)
hostile_leaf = st.one_of(hostile_text, hostile_number, st.sampled_from(RAW_FIELD_VALUES))


def _containers(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.dictionaries(st.text(max_size=5), inner, max_size=3).map(_document),
    )


hostile_value = st.one_of(
    hostile_leaf, _containers(st.one_of(hostile_leaf, _containers(hostile_leaf)))
)

# -- query values (raw, percent-encoded as an attacker would put them on the wire) ---------

_SOME_UUID = "9f0e8d7c-6b5a-4433-8221-100000000001"
HOSTILE_CURSORS = [
    cursor_of(["0001-01-01T00:00:00+05:00", _SOME_UUID]),
    cursor_of(["9999-12-31T23:59:59-23:59", "1"]),
    cursor_of(["2026-01-01T00:00:00+00:00", "9" * 30]),
    cursor_of(["2026-01-01T00:00:00+00:00", str(-(2**63) - 1)]),
    cursor_of(["2026-01-01T00:00:00+00:00", 2**64]),
    cursor_of(["10000-01-01T00:00:00", "1"]),
    cursor_of(["2026-01-01T00:00:00+23:59:59.999999", "1"]),
    cursor_of([{"a": 1}, "x"]),
    b64url('["\\ud800", "1"]'),
    b64url('["2026-01-01T00:00:00+00:00", "\\u0000"]'),
    b64url("[" * 140),
    b64url("[1e400, NaN]"),
    b64url('["2026-01-01T00:00:00+00:00", ' + "1" * 100 + "]"),
    "%ED%A0%80",
    "!!!",
]
HOSTILE_QUERY_VALUES = [
    "%ED%A0%80",  # a surrogate's CESU-8 bytes
    "%00",
    "%FF%FE",
    "%E2%80%AE",  # RTL override
    "a" * 3000,
    "1e400",
    "NaN",
    "-" + "9" * 30,
    "9" * 30,
    *(t.replace("+", "%2B") for t in OUT_OF_RANGE_TIMES),
]


SHORT_QUERY_VALUES = ["%ED%A0%80", "%00", "9" * 30, "0001-01-01T00:00:00%2B05:00"]


def _query_fields(route: Route) -> list[str]:
    return _fields(route.query)


cursor_from_parts = st.builds(
    lambda year, offset, row_id: cursor_of([f"{year:04d}-01-01T00:00:00{offset}", row_id]),
    st.sampled_from([1, 2, 1899, 2026, 9999]),
    st.sampled_from(["+23:59", "-23:59", "+14:00", "-14:00", "Z", "+05:30:15", ""]),
    st.one_of(st.integers().map(str), st.uuids().map(str), st.integers(min_value=2**63)),
)
query_value = st.one_of(st.sampled_from(HOSTILE_QUERY_VALUES + HOSTILE_CURSORS), cursor_from_parts)

# Headers an attacker controls that reach our code (raw bytes, as they arrive).
HOSTILE_HEADERS: list[dict[str, bytes]] = [
    {"Idempotency-Key": b"\xed\xa0\x80"},
    {"Idempotency-Key": b"k" * 4000},
    {"X-Request-Id": b"../../\xff\xfe" * 10},
    {"Last-Event-ID": b"\xed\xa0\x80" * 100},
    {"X-Cloud-Trace-Context": b"\xff" * 2000 + b"/1;o=1"},
]

# -- the check after every hostile request -------------------------------------------------


def _send(
    http: httpx.Client,
    route: Route,
    headers: dict[str, Any],
    *,
    body: str | None = None,
    query: str | None = None,
) -> httpx.Response:
    target = url(route) + (f"?{query}" if query else "")
    content = body.encode("utf-8", "surrogatepass") if body is not None else None
    if content is not None:
        headers = {**headers, "Content-Type": "application/json"}
    return http.request(route.method, target, headers=headers, content=content)


def _attack_then_check(
    route: Route,
    api: httpx.Client,
    admin_api: httpx.Client,
    callers: Any,
    *,
    body: str | None = None,
    query: str | None = None,
    extra_headers: dict[str, Any] | None = None,
) -> None:
    http = admin_api if is_admin(route) else api
    headers = {**callers.headers_for(route.auth.role), **(extra_headers or {})}
    response = _send(http, route, headers, body=body, query=query)
    assert response.status_code < 500, (
        route_id(route),
        body[:200] if body else None,
        query[:200] if query else None,
        response.status_code,
        response.text[:300],
    )
    if response.status_code >= 400:
        assert_contract_error(response, response.status_code)
    # Another user, same server, right after: must be served normally.
    if is_admin(route):
        check = admin_api.get("/api/admin/auth/me", headers=callers.bystander_operator)
    else:
        check = api.get("/api/client/auth/me", headers=callers.bystander_client)
    assert check.status_code == 200, (route_id(route), check.status_code, check.text[:300])


# -- what must not change --------------------------------------------------------------------

_COUNTED = [
    "SELECT max(version) FROM settings_versions",
    "SELECT count(*) FROM payment_webhook_events",
    "SELECT count(*) FROM packages",
    "SELECT count(*) FROM operators",
    "SELECT count(*) FROM mitras",
    "SELECT count(*) FROM payments",
]


def _snapshot(database: sa.Engine) -> list[Any]:
    with database.connect() as connection:
        return [connection.execute(sa.text(sql)).scalar() for sql in _COUNTED]


@pytest.fixture(scope="module", autouse=True)
def nothing_changes(database, callers):  # type: ignore[no-untyped-def]
    before = _snapshot(database)
    yield
    assert _snapshot(database) == before


# -- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=route_id)
def test_hostile_json_documents_on_every_write_route(route, api, admin_api, callers):
    documents = list(WHOLE_DOCUMENTS)
    first, *others = _fields(route.body)
    documents += [_document({first: value}) for value in RAW_FIELD_VALUES]
    for field in others:
        documents += [_document({field: value}) for value in SHORT_FIELD_VALUES]
    for document in documents:
        _attack_then_check(route, api, admin_api, callers, body=document)


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=route_id)
@HYPOTHESIS
@given(data=st.data())
def test_generated_hostile_bodies_on_every_write_route(route, api, admin_api, callers, data):
    names = _fields(route.body)
    fields = data.draw(
        st.dictionaries(st.sampled_from([*names, "\ud800", "x"]), hostile_value, min_size=1)
    )
    headers = data.draw(st.sampled_from([{}, *HOSTILE_HEADERS]))
    _attack_then_check(
        route, api, admin_api, callers, body=_document(fields), extra_headers=headers
    )


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=route_id)
def test_hostile_query_values_and_cursors_on_every_list_route(route, api, admin_api, callers):
    for field in _query_fields(route):
        # Cursors and time filters get everything; other fields one of each kind.
        values = HOSTILE_QUERY_VALUES if field in ("from", "to", "day") else SHORT_QUERY_VALUES
        values = HOSTILE_CURSORS if field == "cursor" else values
        for value in values:
            _attack_then_check(route, api, admin_api, callers, query=f"{field}={value}")


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=route_id)
@HYPOTHESIS
@given(data=st.data())
def test_generated_hostile_queries_on_every_list_route(route, api, admin_api, callers, data):
    fields = data.draw(
        st.dictionaries(st.sampled_from(_query_fields(route)), query_value, min_size=1)
    )
    query = "&".join(f"{k}={v}" for k, v in fields.items())
    _attack_then_check(route, api, admin_api, callers, query=query)


@pytest.mark.parametrize("route", PLAIN_ROUTES, ids=route_id)
def test_hostile_headers_and_path_segments_on_every_route(route, api, admin_api, callers):
    for headers in HOSTILE_HEADERS:
        _attack_then_check(route, api, admin_api, callers, extra_headers=headers)
    http = admin_api if is_admin(route) else api
    if "<" in route.path:
        for segment in ("%ED%A0%80", "%00", "9" * 40, str(uuid.uuid4()) + "%00"):
            target = route.path.split("<")[0] + segment
            response = http.request(
                route.method, target, headers=callers.headers_for(route.auth.role)
            )
            assert response.status_code < 500, (target, response.text[:200])
