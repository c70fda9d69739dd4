"""PostgreSQL access: one pooled SQLAlchemy engine per process, over pg8000.

With `CLOUD_SQL_INSTANCE` set, connections come from the Cloud SQL Python Connector
(private IP, lazy refresh, IAM database auth) as Google documents for Cloud Run; the
connector does not pool, SQLAlchemy does. Otherwise `DATABASE_URL` is used directly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.config import Config, get_config

_lock = threading.Lock()
_engine: Engine | None = None


def _cloud_sql_creator(config: Config) -> Any:
    # Imported only here: the connector costs ~230 ms of cold start (scale.md).
    from google.cloud.sql.connector import Connector, IPTypes

    connector = Connector(ip_type=IPTypes.PRIVATE, refresh_strategy="lazy", enable_iam_auth=True)
    instance = config.cloud_sql_instance or ""

    def connect() -> Any:
        return connector.connect(instance, "pg8000", user=config.db_iam_user, db=config.db_name)

    return connect


def create_engine(config: Config) -> Engine:
    pool_args: dict[str, Any] = {
        "pool_size": config.db_pool_size,
        "max_overflow": config.db_pool_overflow,
        # A burst beyond the pool queues this long for a connection; only a PostgreSQL that
        # cannot be reached (or a queue longer than this) answers 503.
        "pool_timeout": config.db_pool_timeout_s,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }
    if config.cloud_sql_instance:
        engine = sa.create_engine(
            "postgresql+pg8000://", creator=_cloud_sql_creator(config), **pool_args
        )
    elif config.database_url:
        engine = sa.create_engine(config.database_url, **pool_args)
    else:
        raise RuntimeError("Set DATABASE_URL or CLOUD_SQL_INSTANCE to reach PostgreSQL.")

    timeout_ms = config.db_statement_timeout_ms

    @sa.event.listens_for(engine, "connect")
    def _set_session_defaults(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()

    return engine


def engine() -> Engine:
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = create_engine(get_config())
    return _engine


def reset_engine() -> None:
    """Drop the pool (tests that point the process at another database)."""
    global _engine
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None


@contextmanager
def transaction() -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with engine().begin() as connection:
        yield connection


@contextmanager
def read() -> Iterator[Connection]:
    """A connection for reads (autocommit-free, rolled back at the end)."""
    with engine().connect() as connection:
        yield connection
