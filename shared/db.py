"""PostgreSQL access: one pooled SQLAlchemy engine per process, over pg8000.

With `CLOUD_SQL_INSTANCE` set, connections come from the Cloud SQL Python Connector
(private IP, lazy refresh, IAM database auth) as Google documents for Cloud Run; the
connector does not pool, SQLAlchemy does. Otherwise `DATABASE_URL` is used directly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shared.config import Config, get_config
from shared.lazy import lazy_module

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection, Engine
else:
    sa = lazy_module("sqlalchemy")

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
    sa.event.listen(engine, "handle_error", _invalidate_unless_in_sync)

    @sa.event.listens_for(engine, "connect")
    def _set_session_defaults(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()

    return engine


_CONNECTION_GOING = ("08", "57P", "53")  # SQLSTATE classes: connection, shutdown, resources


def _sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE of an error PostgreSQL itself reported, else None. pg8000 raises such
    errors only after reading up to ReadyForQuery, so the connection is still in step."""
    import pg8000.exceptions

    if (
        isinstance(error, pg8000.exceptions.DatabaseError)
        and error.args
        and isinstance(error.args[0], dict)
    ):
        code = error.args[0].get("C")
        return str(code) if code else None
    return None


def _invalidate_unless_in_sync(context: sa.engine.ExceptionContext) -> None:
    """Never hand out a connection a failed statement may have left out of step.

    pg8000 sends Parse/Describe/Sync, then encodes the parameters and sends Bind: a value
    it cannot encode (a lone surrogate, a datetime it cannot convert) raises *between*
    the two, with the Describe reply still unread. Back in the pool, such a connection
    answers the next request with the previous one's replies (the pre-ping reads a stale
    ReadyForQuery and passes). So every error other than one PostgreSQL reported cleanly
    (constraint violations, bad input, timeouts: read up to ReadyForQuery) invalidates
    this one connection, Python exceptions raised inside the driver included: it is
    closed, never reused, and the pool opens a fresh one. A genuine disconnect keeps
    SQLAlchemy's default of recycling the whole pool."""
    if context.is_disconnect:
        return
    code = _sqlstate(context.original_exception)
    if code is not None and not code.startswith(_CONNECTION_GOING):
        return
    context.is_disconnect = True
    context.invalidate_pool_on_disconnect = False


def is_lost_connection(error: BaseException) -> bool:
    """A database error that means the store is unreachable (answered 503), as opposed to
    a connection we threw away ourselves after a client-side driver error (500)."""
    import pg8000.exceptions
    import sqlalchemy.exc

    if isinstance(error, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return True
    if not isinstance(error, sqlalchemy.exc.DBAPIError):
        return False
    code = _sqlstate(error.orig)
    if code is not None:
        return code.startswith(_CONNECTION_GOING)
    return error.connection_invalidated and isinstance(
        error.orig, pg8000.exceptions.InterfaceError | OSError
    )


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
