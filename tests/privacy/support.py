"""Scans for personal data left anywhere: every text/json column of every table, and every
Valkey key name and value."""

from __future__ import annotations

import sqlalchemy as sa

from shared import valkey


def tables_holding(database: sa.Engine, needles: list[str]) -> list[str]:
    """`table.column` of every row value that contains one of `needles`."""
    found: list[str] = []
    with database.connect() as connection:
        columns = connection.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public'"
                " AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
            )
        ).all()
        for table, column in columns:
            for needle in needles:
                hits = connection.execute(
                    # Names from information_schema, not from input.
                    sa.text(
                        f'SELECT count(*) FROM "{table}" WHERE strpos("{column}"::text, :n) > 0'  # noqa: S608
                    ),
                    {"n": needle},
                ).scalar_one()
                if hits:
                    found.append(f"{table}.{column} holds {needle!r}")
    return found


def valkey_holding(needles: list[str]) -> list[str]:
    client = valkey.client()
    found: list[str] = []
    for raw_key in client.scan_iter(count=1000):
        key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            values: list[object] = [client.get(key)]
        elif kind == "hash":
            values = [*client.hgetall(key).items()]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = client.zrange(key, 0, -1)
        elif kind == "stream":
            values = client.xrange(key)
        else:
            values = []
        text = key + " " + repr(values)
        found.extend(f"{key} holds {n!r}" for n in needles if n in text)
    return found
