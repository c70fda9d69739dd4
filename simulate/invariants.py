"""What must hold after any run, checked against the stores themselves (not the actors'
counters): no mitra over capacity, never a double session, the ledger consistent, and
Valkey's load counters equal to PostgreSQL's active sessions once the sweeper reconciled."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared import valkey
from shared.store.live.keys import LOAD as LOAD_KEY
from simulate.chat import ChatLedger


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _rows(engine: sa.Engine, sql: str, **params: object) -> list[sa.Row]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def check_all(
    engine: sa.Engine,
    mitra_ids: list[str],
    client_ids: list[str],
    default_capacity: int,
    server_errors: int,
    chat: ChatLedger | None = None,
) -> list[Check]:
    over = _rows(
        engine,
        "SELECT s.mitra_id, count(*) AS held, coalesce(m.max_customers, :d) AS capacity"
        " FROM sessions s JOIN mitras m ON m.id = s.mitra_id"
        " WHERE s.status = 'active' AND s.mitra_id = ANY(CAST(:ids AS uuid[]))"
        " GROUP BY s.mitra_id, m.max_customers HAVING count(*) > coalesce(m.max_customers, :d)",
        d=default_capacity,
        ids=mitra_ids,
    )
    doubled_clients = _rows(
        engine,
        "SELECT client_id FROM sessions WHERE status = 'active'"
        " AND client_id = ANY(CAST(:ids AS uuid[])) GROUP BY client_id HAVING count(*) > 1",
        ids=client_ids,
    )
    (counts,) = _rows(
        engine,
        "SELECT"
        " (SELECT count(*) FROM sessions WHERE client_id = ANY(CAST(:ids AS uuid[]))) AS sessions,"
        " (SELECT count(*) FROM pairing_requests WHERE client_id = ANY(CAST(:ids AS uuid[]))"
        "   AND status = 'matched' AND reroute_session IS NULL) AS matched,"
        " (SELECT count(DISTINCT session_id) FROM pairing_requests"
        "   WHERE client_id = ANY(CAST(:ids AS uuid[])) AND status = 'matched') AS linked,"
        " (SELECT coalesce(-sum(sessions), 0) FROM credit_ledger"
        "   WHERE client_id = ANY(CAST(:ids AS uuid[])) AND kind = 'consumption') AS consumed,"
        " (SELECT count(*) FROM sessions s WHERE s.client_id = ANY(CAST(:ids AS uuid[]))"
        "   AND (SELECT count(*) FROM credit_ledger l WHERE l.session_id = s.id"
        "        AND l.kind = 'consumption') <> 1) AS sessions_not_consumed_once",
        ids=client_ids,
    )
    negative = _rows(
        engine,
        "SELECT client_id, bucket FROM credit_ledger WHERE client_id = ANY(CAST(:ids AS uuid[]))"
        " GROUP BY client_id, bucket HAVING sum(sessions) < 0",
        ids=client_ids,
    )
    held = {
        str(row.mitra_id): int(row.held)
        for row in _rows(
            engine,
            "SELECT mitra_id, count(*) AS held FROM sessions WHERE status = 'active'"
            " AND mitra_id = ANY(CAST(:ids AS uuid[])) GROUP BY mitra_id",
            ids=mitra_ids,
        )
    }
    loads = valkey.client().hmget(LOAD_KEY, mitra_ids)
    load_mismatch = {
        mitra_id: (int(load or 0), held.get(mitra_id, 0))
        for mitra_id, load in zip(mitra_ids, loads, strict=True)
        if int(load or 0) != held.get(mitra_id, 0)
    }
    return [
        Check("no_over_capacity", not over, f"{len(over)} mitras above capacity"),
        Check(
            "no_double_session",
            not doubled_clients and counts.sessions == counts.matched == counts.linked,
            f"{len(doubled_clients)} clients with two active sessions; sessions "
            f"{counts.sessions}, matched requests {counts.matched}, "
            f"distinct matched sessions {counts.linked}",
        ),
        Check(
            "ledger_consistent",
            counts.consumed == counts.sessions
            and counts.sessions_not_consumed_once == 0
            and not negative,
            f"consumed {counts.consumed} for {counts.sessions} sessions; "
            f"{counts.sessions_not_consumed_once} sessions not consumed exactly once; "
            f"{len(negative)} negative balances",
        ),
        Check(
            "load_matches_sessions",
            not load_mismatch,
            f"{len(load_mismatch)} mitras whose Valkey load differs from PostgreSQL",
        ),
        Check("no_server_errors", server_errors == 0, f"{server_errors} 5xx or transport errors"),
        *([_chat_delivered(engine, client_ids, chat)] if chat is not None else []),
    ]


def _chat_delivered(engine: sa.Engine, client_ids: list[str], chat: ChatLedger) -> Check:
    """Every message sent reached the other party exactly once on its stream, or by the
    catch-up read after a reconnect; PostgreSQL holds exactly the messages sent."""
    stored = {
        str(row.id)
        for row in _rows(
            engine,
            "SELECT m.id FROM chat_messages m JOIN sessions s ON s.id = m.session_id"
            " WHERE s.client_id = ANY(CAST(:ids AS uuid[]))",
            ids=client_ids,
        )
    }
    with chat.lock:
        sent = set(chat.sent)
        streamed = {i for i, n in chat.by_stream.items() if n >= 1}
        twice = sorted(i for i, n in chat.by_stream.items() if n > 1)
        reached = streamed | chat.fetched
        both = streamed & chat.fetched
    missing = sent - reached
    unknown = reached - sent
    return Check(
        "chat_delivered_exactly_once",
        not missing and not twice and not unknown and not both and stored == sent,
        f"{len(sent)} sent: {len(streamed)} on the other party's stream, "
        f"{len(reached - streamed)} by catch-up read; {len(missing)} never delivered, "
        f"{len(twice)} twice on a stream, {len(unknown)} delivered but never sent; "
        f"PostgreSQL holds {len(stored)} ({len(stored - sent)} unknown, "
        f"{len(sent - stored)} missing)",
    )
