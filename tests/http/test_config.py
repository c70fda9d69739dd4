"""The typed configuration reads the process environment (shared/config.py): names are
case-insensitive, strings become the fields' types, settings given to `Config(...)` win,
and a value a field cannot hold stops the process at start with a ValidationError."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.config import Config


def test_environment_names_are_case_insensitive_and_values_typed(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "7")
    monkeypatch.setenv("valkey_tls_check_hostname", "false")
    monkeypatch.setenv("Db_Pool_Timeout_S", "2.5")
    monkeypatch.setenv("SOMETHING_ELSE_ENTIRELY", "ignored")

    config = Config()

    assert config.db_pool_size == 7
    assert config.valkey_tls_check_hostname is False
    assert config.db_pool_timeout_s == 2.5


def test_given_settings_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "7")

    assert Config(db_pool_size=4).db_pool_size == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_POOL_SIZE", "many"),
        ("DB_POOL_SIZE", "0"),  # below its minimum
        ("STREAM_TICKET_RATE", "often"),  # not a rate
        ("CORS_ADMIN_ORIGINS", "*"),  # never for the admin API
    ],
)
def test_a_value_the_field_cannot_hold_is_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        Config()

    assert refused.value.errors()[0]["loc"] == (name.lower(),)
