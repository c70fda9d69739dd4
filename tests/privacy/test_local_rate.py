"""The heartbeat's in-process flood guard (shared/local_rate.py): `limits`' notation read the
way `limits` reads it, and a fixed window per caller (the HTTP proof is
test_rate_limits.py::test_heartbeat_flood)."""

from __future__ import annotations

import threading

import pytest
from limits import parse_many

from shared.errors import RateLimited
from shared.local_rate import LocalLimiter, parse


@pytest.mark.parametrize(
    "rate",
    ["10/minute", "5/second;60/minute", "2/10 seconds", "3 per hour", "1/day|2 per 2 months"],
)
def test_rates_read_as_limits_reads_them(rate):
    assert parse(rate) == tuple(
        (item.amount, item.get_expiry(), str(item)) for item in parse_many(rate)
    )


@pytest.mark.parametrize("rate", ["", "10", "ten/minute", "10/fortnight", "10/minute;"])
def test_a_rate_limits_cannot_read_is_refused(rate):
    with pytest.raises(ValueError):
        parse(rate)


def test_each_caller_has_its_own_window_and_a_retry_after():
    limiter = LocalLimiter()
    for _ in range(3):
        limiter.hit("beat", "a", "3/minute")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("beat", "a", "3/minute")
    assert 1 <= refused.value.details["retry_after_s"] <= 60
    assert refused.value.details["limit"] == "3 per 1 minute"
    limiter.hit("beat", "b", "3/minute")  # another caller is not affected
    limiter.hit("other", "a", "3/minute")  # nor another limit


def test_concurrent_hits_are_all_counted():
    limiter = LocalLimiter()
    admitted = []

    def hammer() -> None:
        for _ in range(100):
            try:
                limiter.hit("beat", "a", "250/minute")
                admitted.append(1)
            except RateLimited:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 250
