"""`python -m simulate [--mitras N] [--clients M] [--duration S] …`: see simulate/__init__.py.

Defaults finish in about a minute on a 2-core machine (stack start, about 10 s of sign-ups,
45 s of traffic, the final sweeps and checks). Exit code 0 only if every invariant holds.
"""

from __future__ import annotations

import argparse
import dataclasses
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

from devstack.balancer import run_fast
from devstack.servers import free_port
from devstack.stack import REPO_ROOT, LocalStack, Ports, StackOptions, parse_instances
from shared.catalogue import load_catalogue
from simulate import design
from simulate.actors import Behaviour, ClientActor, MitraActor, World
from simulate.invariants import check_all
from simulate.metrics import Metrics
from simulate.sampler import Sampler
from simulate.target import Target, default_instances
from simulate.view import render
from tests.support.firebase_accounts import FirebaseAccounts

REPORT = REPO_ROOT / "simulate" / "results" / "latest.json"
CAPACITIES = (None, None, None, 1, 2)  # None: the operator's default (max_customers_per_mitra)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulate", description=__doc__)
    parser.add_argument("--mitras", type=int, default=30)
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument(
        "--profile",
        choices=("default", "design-target"),
        default="default",
        help="design-target: scale.md's 5,000 mitras / 2,000 clients / 3 requests/s "
        "(simulate/target.py); --mitras, --clients and the shares are the default profile's",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="design-target: the share of it to run"
    )
    parser.add_argument(
        "--instances",
        default="",
        help="design-target: instances per public function, e.g. pairing=4,presence=2 "
        "(overrides the profile's own choice)",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds of traffic (45; design 180)"
    )
    parser.add_argument("--stream-share", type=float, default=0.3, help="mitras on SSE")
    parser.add_argument("--drop-share", type=float, default=0.15, help="mitras that drop once")
    parser.add_argument("--cancel-share", type=float, default=0.15)
    parser.add_argument("--accept-share", type=float, default=0.85)
    parser.add_argument("--heartbeat-interval", type=int, default=5, help="seconds (min 5)")
    parser.add_argument("--search-window", type=int, default=15, help="seconds (min 10)")
    parser.add_argument(
        "--sweep-interval", type=float, default=None, help="seconds (5; design 60 as deployed)"
    )
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
    design = args.profile == "design-target"
    if args.duration is None:
        args.duration = 180.0 if design else 45.0
    if args.sweep_interval is None:
        args.sweep_interval = 60.0 if design else 5.0
    console = Console()
    instances: dict[str, int] = {}
    target = None
    if design:
        target = Target.scaled(args.scale, args.duration)
        owner = load_catalogue().owner_of("/api/mitra/events", "public")
        assert owner is not None
        instances = {
            **default_instances(target, owner.name),
            **parse_instances(args.instances),
        }
    with tempfile.TemporaryDirectory(prefix="halo-simulate-") as data_dir:
        stack = LocalStack(
            StackOptions(
                data_dir=Path(data_dir),
                ports=Ports(*(free_port() for _ in range(9))),
                environment="simulate",
                sweep_interval_s=args.sweep_interval,
                # The design target runs the product's own cadences (stream keep-alives
                # every 15 s, settings cached 5 s); the default profile hurries them.
                settings_cache_s=5 if design else 1,
                extra_env={"LOG_LEVEL": "WARNING", **({} if design else {"SSE_KEEPALIVE_S": "5"})},
                instances=instances,
            )
        )
        console.print(
            "starting the local stack…" + (f" instances {instances}" if instances else "")
        )
        stack.start()
        os.environ.update(stack.env())
        _reset_process_clients()
        try:
            if target is not None:
                return _design_target(stack, target, args, instances, console)
            return run(stack, args, console)
        finally:
            stack.stop()


def _design_target(
    stack: LocalStack,
    target: Target,
    args: argparse.Namespace,
    instances: dict[str, int],
    console: Console,
) -> int:
    summary, checks = run_fast(
        design.simulate(stack, target, args.seed, args.sweep_interval, console, args.quiet)
    )
    report = {
        "profile": "design-target",
        "parameters": {
            "scale": args.scale,
            "target": dataclasses.asdict(target),
            "instances": instances,
            "sweep_interval_s": args.sweep_interval,
            "seed": args.seed,
        },
        "summary": summary,
        "invariants": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "meta": {**_meta(), "load_average_at_end": os.getloadavg()},
    }
    text = json.dumps(report, indent=2, sort_keys=True) + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    (REPORT.parent / "design-target.json").write_text(text, encoding="utf-8")
    table = Table(title="invariants", show_header=False)
    for check in checks:
        table.add_row(
            "[green]ok[/green]" if check.ok else "[red]FAILED[/red]", check.name, check.detail
        )
    console.print(table)
    resources = summary["resources"]
    console.print(
        f"{summary['requests']} requests ({summary['requests_per_s']}/s), "
        f"{summary['matched']} matched, match p50 {summary['match_ms_p50']} ms / p99 "
        f"{summary['match_ms_p99']} ms; {summary['heartbeats_per_s']} heartbeats/s, p99 "
        f"{summary['heartbeat_ms_p99']} ms; {summary['stream_frames_per_s']} frames/s on "
        f"{summary['streams_open_at_end']} streams; Valkey busy "
        f"{resources['valkey_busy_ms_per_s']} ms/s; {summary['errors']} errors; "
        f"written to {REPORT.relative_to(REPO_ROOT)}"
    )
    console.print(f"CPU per process (s/s): {resources['cpu_share']}")
    return 0 if all(check.ok for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
