"""Layer (b) of issue 13's first class: whatever a driver error leaves behind, that
connection is never handed out again.

pg8000 flushes Parse/Describe/Sync and only then encodes the parameters for Bind; a value it
cannot encode raises with the Describe reply unread. These tests make the driver fail
exactly there, on a pool of ONE connection, and then check that the next statements all
get their own answers (a poisoned connection answers with the previous statement's)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from shared import db
from shared.config import get_config


@pytest.fixture
def one_connection_engine(stack):  # type: ignore[no-untyped-def]
    config = get_config().model_copy(update={"db_pool_size": 1, "db_pool_overflow": 0})
    engine = db.create_engine(config)
    yield engine
    engine.dispose()


def _backend_pid(connection: sa.Connection) -> int:
    return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _ten_normal_statements(engine: sa.Engine) -> None:
    for n in range(10):
        with engine.connect() as connection:
            got = connection.execute(
                sa.text("SELECT CAST(:n AS int) AS n, 'x' || :n AS s"), {"n": n}
            ).one()
        assert tuple(got) == (n, f"x{n}")


BAD_VALUES = [
    pytest.param("lone \ud800 surrogate", id="lone-surrogate"),
    pytest.param(
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))), id="datetime-year-0"
    ),
]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_client_side_driver_failure_mid_statement_discards_the_connection(
    one_connection_engine, value
):
    engine = one_connection_engine
    with engine.connect() as connection:
        poisoned_pid = _backend_pid(connection)

    with pytest.raises(Exception), engine.begin() as connection:  # noqa: B017 (any error)
        connection.execute(sa.text("SELECT 1"))
        connection.execute(sa.text("SELECT CAST(:v AS text)"), {"v": value})

    _ten_normal_statements(engine)
    with engine.connect() as connection:
        assert _backend_pid(connection) != poisoned_pid  # a fresh connection, not the old one


def test_a_server_error_keeps_the_connection_which_stays_in_step(one_connection_engine):
    engine = one_connection_engine
    with engine.connect() as connection:
        pid = _backend_pid(connection)

    with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
        connection.execute(sa.text("SELECT CAST(:v AS bigint)"), {"v": "9" * 30})

    _ten_normal_statements(engine)
    with engine.connect() as connection:
        assert _backend_pid(connection) == pid  # read to ReadyForQuery: safe to keep


def test_a_python_error_mid_transaction_rolls_back_and_leaves_the_connection_clean(
    one_connection_engine,
):
    engine = one_connection_engine
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS hygiene (n int)"))

    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO hygiene VALUES (1)"))
        raise RuntimeError("handler bug after a write")

    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM hygiene")).scalar_one() == 0
    _ten_normal_statements(engine)
