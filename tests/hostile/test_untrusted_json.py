"""The hardened JSON parser on its own (no servers): what it refuses, with which field and
error, and that it accepts everything a legitimate client or Xendit sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.errors import InvalidRequest
from shared.web import untrusted


def _refusal(raw: str) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        untrusted.loads(raw.encode("utf-8", "surrogatepass"))
    return caught.value.details["fields"][0]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("[" * 33 + "]" * 33, "too_deep"),
        ('{"a":' * 5000 + "1" + "}" * 5000, "too_deep"),
        ('{"a": ' + "1" * 5000 + "}", "number_out_of_range"),
        ('{"a": 9223372036854775808}', "number_out_of_range"),
        ('{"a": -9223372036854775809}', "number_out_of_range"),
        ('{"a": NaN}', "number_out_of_range"),
        ('{"a": -Infinity}', "number_out_of_range"),
        ('{"a": 1e400}', "number_out_of_range"),
        ('{"a": 1, "a": 2}', "duplicate_key"),
        ('{"a": "x\\ud800"}', "invalid_unicode"),
        ('{"a": "x\\u0000"}', "nul_character"),
        ('"' + '\\"' * 20000, "invalid_json"),  # unterminated: linear, and a 400
        ("\xff", "invalid_json"),
    ],
)
def test_hostile_documents_are_refused_with_a_named_error(raw, error):
    assert _refusal(raw)["error"] == error


def test_the_offending_field_is_named_by_its_path():
    assert _refusal('{"a": {"b": [1, "\\udc00"]}}')["field"] == "a.b.1"
    assert _refusal('{"a": {"\\ud800": 1}}')["field"] == "a"


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = '{"a": "' + "[" * 100 + '\\"[[[", "b": [["]]]]\\\\"]]}'
    assert untrusted.nesting_depth(text) == 3
    assert untrusted.loads(text)["b"] == [["]]]]\\"]]


def test_legitimate_documents_pass_unchanged():
    document = (
        '{"id": "inv_1", "amount": 35000, "paid_amount": 35000.0, "fees": [{"value": 0}],'
        ' "max": 9223372036854775807, "name": "Budi \u00e9\U0001f600", "nested": '
        + "[" * 31
        + "]" * 31
        + "}"
    )
    parsed = untrusted.loads(document)
    assert parsed["max"] == 2**63 - 1
    assert parsed["name"] == "Budi \u00e9\U0001f600"


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2200, 1, 1),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=15))),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, seconds=1))),
    ],
)
def test_instants_outside_what_the_database_holds_are_refused(value):
    with pytest.raises(InvalidRequest):
        untrusted.check_instant(value, "from")


def test_real_world_instants_pass():
    for value in (
        datetime(2026, 11, 30, 12, 0, tzinfo=timezone(timedelta(hours=7))),
        datetime(2026, 11, 30, 12, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(1900, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 12, 0),
    ):
        assert untrusted.check_instant(value, "from") is value
