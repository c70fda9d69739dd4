"""`python -m simulate [--mitras N] [--clients M] [--duration S] …`: see simulate/__init__.py.

Defaults finish in about a minute on a 2-core machine (stack start, about 10 s of sign-ups,
45 s of traffic, the final sweeps and checks). Exit code 0 only if every invariant holds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.live import Live
from rich.table import Table

from devstack.servers import free_port
from devstack.stack import REPO_ROOT, LocalStack, Ports, StackOptions
from simulate.actors import Behaviour, ClientActor, MitraActor, World
from simulate.invariants import check_all
from simulate.metrics import Metrics
from simulate.view import render
from tests.support.firebase_accounts import FirebaseAccounts

REPORT = REPO_ROOT / "simulate" / "results" / "latest.json"
CAPACITIES = (None, None, None, 1, 2)  # None: the operator's default (max_customers_per_mitra)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulate", description=__doc__)
    parser.add_argument("--mitras", type=int, default=30)
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of traffic")
    parser.add_argument("--stream-share", type=float, default=0.3, help="mitras on SSE")
    parser.add_argument("--drop-share", type=float, default=0.15, help="mitras that drop once")
    parser.add_argument("--cancel-share", type=float, default=0.15)
    parser.add_argument("--accept-share", type=float, default=0.85)
    parser.add_argument("--heartbeat-interval", type=int, default=5, help="seconds (min 5)")
    parser.add_argument("--search-window", type=int, default=15, help="seconds (min 10)")
    parser.add_argument("--sweep-interval", type=float, default=5.0, help="seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quiet", action="store_true", help="no live view")
    return parser.parse_args(argv)


def _reset_process_clients() -> None:
    from shared import db, valkey
    from shared.config import get_config
    from shared.domain import settings

    get_config.cache_clear()
    db.reset_engine()
    valkey.reset_client()
    settings.forget_cache()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _make_mitra(
    stack: LocalStack, accounts: FirebaseAccounts, engine: sa.Engine, capacity: int | None
) -> tuple[str, str]:
    phone = "+62814" + str(uuid.uuid4().int)[:8]
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO mitras (name, phone, max_customers) VALUES (:n, :p, :m)"),
            {"n": f"Mitra {phone[-4:]}", "p": phone, "m": capacity},
        )
    account = accounts.sign_in_with_phone(phone)
    answer = httpx.post(
        f"{stack.public_url}/api/mitra/auth/login", headers=_bearer(account.id_token), timeout=30
    )
    answer.raise_for_status()
    return answer.json()["id"], account.id_token


def _make_client(
    stack: LocalStack, accounts: FirebaseAccounts, engine: sa.Engine
) -> tuple[str, str]:
    account = accounts.sign_in_anonymously()
    answer = httpx.post(
        f"{stack.public_url}/api/client/auth/register",
        json={"display_name": "Klien Simulasi"},
        headers=_bearer(account.id_token),
        timeout=30,
    )
    answer.raise_for_status()
    client_id = answer.json()["id"]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO credit_ledger (client_id, bucket, kind, sessions, reference)"
                " VALUES (:c, 'credit', 'purchase', 1000, :r)"
            ),
            {"c": client_id, "r": f"simulate:{uuid.uuid4()}"},
        )
    return client_id, account.id_token


class Sampler(threading.Thread):
    """Reads what the stores say twice a second: who is online, available, busy; how many
    search and hold sessions; whether any mitra ever holds more than its capacity."""

    def __init__(
        self,
        world: World,
        engine: sa.Engine,
        capacity_of: dict[str, int],
        client_ids: list[str],
        default_capacity: int,
    ) -> None:
        super().__init__(name="sampler", daemon=True)
        self.world, self.engine, self.client_ids = world, engine, client_ids
        self.mitras, self.default_capacity = capacity_of, default_capacity

    def run(self) -> None:
        while not self.world.stop.is_set():
            try:
                self.sample()
            except Exception as exc:  # a sampling hiccup must not end the run
                self.world.metrics.error(f"sampler: {type(exc).__name__}")
            self.world.wait(0.5)

    def sample(self) -> None:
        from shared import valkey
        from shared.store.live.keys import HEARTBEATS as HEARTBEATS_KEY
        from shared.store.live.keys import LOAD as LOAD_KEY

        ids = list(self.mitras)
        cutoff = int(time.time() * 1000 - self.world.heartbeat_timeout_s * 1000)
        scores = valkey.client().zmscore(HEARTBEATS_KEY, ids)
        loads = valkey.client().hmget(LOAD_KEY, ids)
        online = [
            (mitra_id, int(load or 0))
            for mitra_id, score, load in zip(ids, scores, loads, strict=True)
            if score is not None and score >= cutoff
        ]
        with self.engine.connect() as connection:
            searching, active, over = connection.execute(
                sa.text(
                    "SELECT"
                    " (SELECT count(*) FROM pairing_requests WHERE status = 'searching'"
                    "  AND client_id = ANY(CAST(:c AS uuid[]))),"
                    " (SELECT count(*) FROM sessions WHERE status = 'active'"
                    "  AND client_id = ANY(CAST(:c AS uuid[]))),"
                    " (SELECT count(*) FROM (SELECT s.mitra_id FROM sessions s"
                    "  JOIN mitras m ON m.id = s.mitra_id WHERE s.status = 'active'"
                    "  AND s.mitra_id = ANY(CAST(:m AS uuid[]))"
                    "  GROUP BY s.mitra_id, m.max_customers"
                    "  HAVING count(*) > coalesce(m.max_customers, :d)) o)"
                ),
                {"c": self.client_ids, "m": ids, "d": self.default_capacity},
            ).one()
        metrics = self.world.metrics
        with metrics.lock:
            metrics.online = len(online)
            metrics.busy = sum(1 for m, load in online if load >= self.mitras[m])
            metrics.available = sum(1 for m, load in online if load < self.mitras[m])
            metrics.searching, metrics.active_sessions = int(searching), int(active)
            metrics.over_capacity_seen = max(metrics.over_capacity_seen, int(over))


def run(stack: LocalStack, args: argparse.Namespace, console: Console) -> int:
    from shared.domain import settings

    rng = random.Random(args.seed)
    product = settings.current().model_copy(
        update={
            "heartbeat_interval_s": args.heartbeat_interval,
            "heartbeat_timeout_s": 2 * args.heartbeat_interval,
            "search_window_s": args.search_window,
        }
    )
    settings.save(product, None)
    default_capacity = product.max_customers_per_mitra
    engine = sa.create_engine(stack.database_url, pool_size=4)
    accounts = FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)
    console.print(f"signing up {args.mitras} mitras and {args.clients} clients…")
    capacities = [rng.choice(CAPACITIES) for _ in range(args.mitras)]
    with ThreadPoolExecutor(8) as pool:
        mitras = list(pool.map(lambda c: _make_mitra(stack, accounts, engine, c), capacities))
        clients = list(
            pool.map(lambda _: _make_client(stack, accounts, engine), range(args.clients))
        )
    capacity_of = {
        mitra_id: capacity or default_capacity
        for (mitra_id, _), capacity in zip(mitras, capacities, strict=True)
    }

    metrics = Metrics()
    world = World(
        base_url=stack.public_url,
        heartbeat_interval_s=args.heartbeat_interval,
        heartbeat_timeout_s=2 * args.heartbeat_interval,
        metrics=metrics,
    )
    behaviour = Behaviour(
        accept_share=args.accept_share,
        drop_share=args.drop_share,
        cancel_share=args.cancel_share,
    )
    streaming = set(rng.sample(range(len(mitras)), round(args.stream_share * len(mitras))))
    actors: list[threading.Thread] = [
        MitraActor(
            world,
            mitra_id,
            token,
            i in streaming,
            random.Random(rng.random()),
            behaviour,
            args.duration,
        )
        for i, (mitra_id, token) in enumerate(mitras)
    ]
    actors += [
        ClientActor(world, token, random.Random(rng.random()), behaviour) for _, token in clients
    ]
    client_ids = [client_id for client_id, _ in clients]
    sampler = Sampler(world, engine, capacity_of, client_ids, default_capacity)
    started = time.monotonic()
    for actor in [*actors[: args.mitras], sampler, *actors[args.mitras :]]:
        actor.start()
    with Live(
        render(metrics.summary(), 0, args.duration),
        console=console,
        refresh_per_second=2,
        transient=False,
        auto_refresh=not args.quiet,
    ) as live:
        while (elapsed := time.monotonic() - started) < args.duration:
            live.update(render(metrics.summary(), elapsed, args.duration))
            time.sleep(0.5)
        world.stop.set()
        for actor in actors:
            actor.join(30)
        sampler.join(10)
        live.update(render(metrics.summary(), args.duration, args.duration))

    # Every app reconnects and reads what its streams missed (the chat catch-up read).
    with httpx.Client(base_url=stack.public_url, timeout=30) as http:
        for actor in actors:
            if isinstance(actor, MitraActor | ClientActor):
                actor.catch_up(http)
    console.print()
    console.print(f"traffic stopped after {time.monotonic() - started:.0f} s; sweeping, checking…")
    # Two sweeps: the reconcile lowers a load only when two runs in a row see the surplus.
    for _ in range(2):
        stack.sweep_now()
    summary = {**metrics.summary(), **world.chat.summary()}
    checks = check_all(
        engine,
        list(capacity_of),
        client_ids,
        default_capacity,
        int(summary["errors"]),  # type: ignore[call-overload]
        world.chat,
    )
    engine.dispose()
    accounts.close()
    report = {
        "parameters": vars(args),
        "summary": summary,
        "invariants": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "meta": _meta(),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    table = Table(title="invariants", show_header=False)
    for check in checks:
        table.add_row(
            "[green]ok[/green]" if check.ok else "[red]FAILED[/red]", check.name, check.detail
        )
    console.print(table)
    console.print(
        f"{summary['requests']} requests, {summary['matched']} matched, "
        f"match p50 {summary['match_ms_p50']} ms / p99 {summary['match_ms_p99']} ms, "
        f"no-bestie rate {summary['no_bestie_rate']:.1%}, {summary['errors']} errors; "
        f"written to {REPORT.relative_to(REPO_ROOT)}"
    )
    return 0 if all(check.ok for check in checks) else 1


def _meta() -> dict[str, object]:
    import platform

    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    ).stdout.strip()
    return {
        "commit": commit,
        "date": datetime.now(UTC).isoformat(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="halo-simulate-") as data_dir:
        stack = LocalStack(
            StackOptions(
                data_dir=Path(data_dir),
                ports=Ports(*(free_port() for _ in range(9))),
                environment="simulate",
                sweep_interval_s=args.sweep_interval,
                settings_cache_s=1,
                extra_env={"LOG_LEVEL": "WARNING", "SSE_KEEPALIVE_S": "5"},
            )
        )
        console.print("starting the local stack…")
        stack.start()
        os.environ.update(stack.env())
        _reset_process_clients()
        try:
            return run(stack, args, console)
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
