"""Log redaction masks phone numbers and emails and leaves ids traceable: digits inside a
UUID, a hex request id or a timestamp are never taken for a phone number."""

from __future__ import annotations

import json
import logging

import pytest

from shared.log import JsonFormatter, redact

KEPT = [
    "4e9fc123-4567-4cec-8123-456789012345",  # digit runs inside a UUID
    "12345678-1234-1234-1234-123456789012",  # an all-digit UUID
    "0123456789abcdef0123456789abcdef",  # hex request id
    "a3f1c9e2b4d6081234567890abcdef12",  # hex id with an 11-digit run inside
    "105445aa7843bc8bf206b12000100000",  # trace id
    "2026-11-30T12:22:17.123456+07:00",
    "2026-11-30 12:22:17",
    "req-20261130-0001",
    "pairing_request 9f0e8d7c-6b5a-4433-8221-100000000001 claimed",
    "took 1234 ms for 56 rows",
]

PHONES = [
    "+6281234567890",
    "081234567890",
    "0812-3456-7890",
    "+62 812 3456 7890",
    "006281234567890",
    "+14155552671",
    "(0812) 3456 7890",
    "+62(812)34567890",
    "+62 (812) 3456-7890",
]

EMAILS = ["budi@example.com", "siti.rahma+halo@mail.co.id", "a_b-c@sub.domain.org"]


@pytest.mark.parametrize("text", KEPT)
def test_ids_and_timestamps_are_untouched(text):
    assert redact(f"id={text} end") == f"id={text} end"


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked(phone):
    for text in (phone, f"call {phone} now", f"phone={phone}&x=1", f'"phone": "{phone}"'):
        redacted = redact(text)
        assert "[phone]" in redacted, text
        assert phone not in redacted


@pytest.mark.parametrize("email", EMAILS)
def test_emails_are_masked(email):
    assert redact(f"login {email} failed") == "login [email] failed"


def test_a_line_with_ids_and_personal_data_masks_only_the_personal_data():
    line = (
        "mitra 4e9fc123-4567-4cec-8123-456789012345 (+6281234567890, budi@example.com) "
        "request 0123456789abcdef0123456789abcdef"
    )
    assert redact(line) == (
        "mitra 4e9fc123-4567-4cec-8123-456789012345 ([phone], [email]) "
        "request 0123456789abcdef0123456789abcdef"
    )


def test_bearer_tokens_are_masked():
    assert redact("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln") == (
        "Authorization: Bearer [redacted]"
    )


def test_the_json_formatter_redacts_message_and_fields_and_keeps_ids():
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "sent to %s", ("081234567890",), None
    )
    record.fields = {  # type: ignore[attr-defined]
        "session_id": "4e9fc123-4567-4cec-8123-456789012345",
        "email": "budi@example.com",
        "count": 81234567890,
    }
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "sent to [phone]"
    assert entry["session_id"] == "4e9fc123-4567-4cec-8123-456789012345"
    assert entry["email"] == "[email]"
    assert entry["count"] == 81234567890
