"""`shared.ratelimit` against the test stack's real Valkey (the test process shares its
environment): a per-caller moving window with the wait in `Retry-After`."""

from __future__ import annotations

import secrets

import pytest

from shared import ratelimit
from shared.errors import RateLimited


def test_a_caller_over_the_limit_is_told_how_long_to_wait(stack):
    caller, other = secrets.token_hex(8), secrets.token_hex(8)
    ratelimit.hit("test-limit", caller, "2/minute")
    ratelimit.hit("test-limit", caller, "2/minute")

    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("test-limit", caller, "2/minute")

    assert 1 <= refused.value.details["retry_after_s"] <= 60
    ratelimit.hit("test-limit", other, "2/minute")  # per caller
    ratelimit.hit("another-limit", caller, "2/minute")  # per limit name


def test_every_part_of_a_combined_limit_applies(stack):
    caller = secrets.token_hex(8)
    ratelimit.hit("test-combined", caller, "5/minute;1/second")

    with pytest.raises(RateLimited):
        ratelimit.hit("test-combined", caller, "5/minute;1/second")
