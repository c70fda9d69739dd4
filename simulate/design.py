"""Runs the design-target profile (simulate/target.py) on a stack of several instances per
function: sign-ups, everyone online and streaming, `duration` seconds of traffic measured
as one window, then the catch-up reads, the sweeps, the invariants and the report."""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.live import Live

from devstack.servers import ManagedServer
from devstack.stack import LocalStack
from shared.catalogue import load_catalogue
from simulate.actors import World
from simulate.chat import ChatLedger
from simulate.invariants import Check, check_all
from simulate.metrics import Metrics, percentile
from simulate.resources import Resources
from simulate.sampler import Sampler
from simulate.target import (
    Accounts,
    Client,
    Mitra,
    Run,
    Target,
    arrivals,
    bounded,
    open_all,
    summary_extras,
)
from simulate.view import render

API_SHARDS = 32  # × 32 connections: more than the calls ever in flight at once
CAPACITIES = (None, None, None, 1, 2)  # None: the operator's default (max_customers_per_mitra)


def processes(stack: LocalStack) -> dict[str, int]:
    """Every process of the stack whose CPU we account, and this one (the load generator,
    which also hosts the Xendit and FCM stand-ins, idle here)."""
    found = {"load generator": os.getpid()}
    for name, server in stack.servers.items():
        if server.pid is not None:
            found["balancer" if name == "public" else name] = server.pid
    stores: dict[str, ManagedServer | None] = {"postgres": stack.postgres, "valkey": stack.valkey}
    for name, store in stores.items():
        if store is not None and store.pid is not None:
            found[name] = store.pid
    if stack.emulator.pid is not None:
        found["auth emulator"] = stack.emulator.pid
    return found


def streams(mitras: list[Mitra], clients: list[Client]) -> set[asyncio.Task[Any]]:
    return {p.stream_task for p in [*mitras, *clients] if p.stream_task is not None}


def percentile_1(samples: list[float], q: float) -> float | None:
    value = percentile(samples, q)
    return None if value is None else round(value, 1)


def per_unit(summary: dict[str, Any], stack: LocalStack) -> dict[str, float]:
    """What one unit of work cost each kind of process in this run (CPU seconds per wall
    second over the window, divided by that work's rate): the figures that extrapolate."""
    cpu: dict[str, float] = summary["resources"]["cpu_share"]

    def total(function: str) -> float:
        return sum(cpu.get(f"{function}-{i}", 0.0) for i in range(len(stack.instances[function])))

    owner = load_catalogue().owner_of("/api/mitra/events", "public")
    assert owner is not None
    figures: dict[str, float] = {}
    beats, frames, calls = (
        summary["heartbeats_per_s"],
        summary["stream_frames_per_s"],
        summary["api_calls_per_s"],
    )
    if beats:
        figures["presence_cpu_ms_per_heartbeat"] = round(total("presence") / beats * 1000, 3)
    owners = len(stack.instances[owner.name])
    figures[f"{owner.name}_instances"] = owners
    figures[f"{owner.name}_streams_per_instance"] = round(summary["streams_open_at_end"] / owners)
    figures[f"{owner.name}_cpu_share_per_instance"] = round(total(owner.name) / owners, 3)
    figures["presence_instances"] = len(stack.instances["presence"])
    if frames:
        figures[f"{owner.name}_frames_per_s_per_instance"] = round(frames / owners, 1)
        figures[f"{owner.name}_cpu_us_per_frame_all_work"] = round(
            total(owner.name) / frames * 1e6, 1
        )
        figures["load_generator_cpu_us_per_frame_and_call"] = round(
            cpu["load generator"] / (frames + calls) * 1e6, 1
        )
    if frames or calls:
        figures["balancer_cpu_us_per_frame_or_call"] = round(
            cpu["balancer"] / (frames + calls) * 1e6, 1
        )
    return figures


async def _catch_up(
    api: httpx.AsyncClient, ledger: ChatLedger, side: str, token: str, session_id: str
) -> None:
    """The app's read after a reconnect, as simulate.chat.catch_up does it."""
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = await api.get(
            f"/api/{side}/sessions/{session_id}/messages",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        if page.status_code != 200:
            return  # rerouted away (404): that history is no longer this mitra's
        body = page.json()
        for message in body["items"]:
            ledger.on_fetch(message, side)
        cursor = body["next_cursor"]
        if cursor is None:
            return


async def simulate(
    stack: LocalStack,
    target: Target,
    seed: int,
    sweep_interval_s: float,
    console: Console,
    quiet: bool = False,
) -> tuple[dict[str, Any], list[Check]]:
    from shared.domain import settings

    product = settings.current()
    rng = random.Random(seed)
    engine = sa.create_engine(stack.database_url, pool_size=4)
    metrics = Metrics()
    # httpcore scans every pooled connection for each request it assigns: small pools.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    shard = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    timings: dict[str, float] = {}
    async with (
        httpx.AsyncClient(base_url=stack.public_url, timeout=60, limits=limits) as api,
        httpx.AsyncClient(base_url=stack.emulator.url, timeout=60, limits=limits) as emulator,
    ):
        accounts = Accounts(emulator, api, stack.emulator.project_id)
        console.print(f"signing up {target.mitras} mitras and {target.clients} clients…")
        began = time.monotonic()
        capacities = [rng.choice(CAPACITIES) for _ in range(target.mitras)]
        mitra_accounts = await accounts.mitras(engine, target.mitras, capacities)
        client_accounts = await accounts.clients(engine, target.clients)
        timings.update(accounts.phases)
        timings["signup_s"] = round(time.monotonic() - began, 1)
        timings["signups_per_s"] = round((target.mitras + target.clients) / timings["signup_s"], 1)
        apis = [
            httpx.AsyncClient(base_url=stack.public_url, timeout=60, limits=shard)
            for _ in range(API_SHARDS)
        ]
        run = Run(
            target=target,
            host=stack.public_url.removeprefix("http://").split(":")[0],
            port=int(stack.public_url.rsplit(":", 1)[1]),
            api=api,
            metrics=metrics,
            heartbeat_interval_s=product.heartbeat_interval_s,
            heartbeat_timeout_s=product.heartbeat_timeout_s,
            search_window_s=product.search_window_s,
            sweep_interval_s=sweep_interval_s,
            rng=rng,
            apis=apis,
        )
        mitras = [Mitra(run, i, t, random.Random(rng.random())) for i, t in mitra_accounts]
        clients = [Client(run, i, t, random.Random(rng.random())) for i, t in client_accounts]
        console.print(
            f"signed up in {timings['signup_s']} s; going online and opening "
            f"{len(mitras) + len(clients)} event streams…"
        )
        began = time.monotonic()
        await open_all(mitras, online=True)
        await open_all(clients, online=False)
        timings["open_s"] = round(time.monotonic() - began, 1)

        world = World(
            base_url=stack.public_url,
            heartbeat_interval_s=product.heartbeat_interval_s,
            heartbeat_timeout_s=product.heartbeat_timeout_s,
            metrics=metrics,
        )
        default_capacity = product.max_customers_per_mitra
        capacity_of = {
            m.id: capacity or default_capacity
            for m, capacity in zip(mitras, capacities, strict=True)
        }
        sampler = Sampler(world, engine, capacity_of, [c.id for c in clients], default_capacity)
        sampler.every_s = 2.0
        resources = Resources(stack.valkey_url, engine, processes(stack))
        with metrics.lock:
            beats_before = len(metrics.heartbeat_ms)
            calls_before = sum(metrics.statuses.values())
        frames_before = run.frames
        sampler.start()
        resources.begin()
        run.started = time.monotonic()
        run.spawn(arrivals(run, clients))
        run.spawn(run.watch_lag())
        view = render(metrics.summary(), 0, target.duration_s)
        with Live(view, console=console, auto_refresh=False) as live:
            while (elapsed := time.monotonic() - run.started) < target.duration_s:
                if not quiet:
                    live.update(render(metrics.summary(), elapsed, target.duration_s), refresh=True)
                await asyncio.sleep(1)
            resources.end()  # the measured window: steady traffic, nothing of the wind-down
            traffic_s = time.monotonic() - run.started
            run.stopping.set()
            world.stop.set()
            live.update(render(metrics.summary(), traffic_s, target.duration_s), refresh=True)
        streams_open = run.streams_open
        frames = run.frames - frames_before
        with metrics.lock:
            window_beats = metrics.heartbeat_ms[beats_before:]
            calls = sum(metrics.statuses.values()) - calls_before
        beats = len(window_beats)
        # The apps close: no new answers; calls in flight finish (a call cut off after the
        # server acted would leave a message or an accept nobody was told of), then the
        # streams close and whatever still waits is ended.
        run.wind_down_timers()
        waiting = [t for t in run.tasks if t not in streams(mitras, clients)]
        await asyncio.wait(waiting, timeout=30) if waiting else None
        for person in [*mitras, *clients]:
            person.close_stream()
        pending = list(run.tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        sampler.join(10)
        console.print(f"traffic stopped after {traffic_s:.0f} s; catching up, sweeping, checking…")
        # Every app reconnects and reads what its streams missed (the chat catch-up read).
        reads = [
            _catch_up(api, run.chat, "mitra", m.token, s)
            for m in mitras
            for s in sorted(m.sessions)
        ] + [_catch_up(api, run.chat, "client", c.token, s) for c in clients for s in c.sessions]
        await bounded(reads)
        for client in apis:
            await client.aclose()
    # Two sweeps: the reconcile lowers a load only when two runs in a row see the surplus.
    for _ in range(2):
        stack.sweep_now()
    summary: dict[str, Any] = {
        **metrics.summary(),
        **run.chat.summary(),
        **summary_extras(run),
        "streams_open_at_end": streams_open,
        "heartbeats_in_window": beats,
        "heartbeats_per_s": round(beats / traffic_s, 1),
        # Over the measured window only (the set-up's burst of sign-ins and stream opens
        # is no heartbeat's normal weather).
        "heartbeat_ms_p50": percentile_1(window_beats, 0.5),
        "heartbeat_ms_p99": percentile_1(window_beats, 0.99),
        "api_calls_per_s": round(calls / traffic_s, 1),
        "call_ms": run.latency_figures(traffic_s),
        "slowest_heartbeats_by_10s": run.worst_heartbeat_seconds(traffic_s),
        "load_generator_loop_lag_ms_max": round(max(run.loop_lag_ms, default=0.0), 1),
        "load_generator_loop_lag_ms_p50": percentile_1(run.loop_lag_ms, 0.5),
        "load_generator_loop_lag_ms_p99": percentile_1(run.loop_lag_ms, 0.99),
        "stream_frames": frames,
        "stream_frames_per_s": round(frames / traffic_s, 1),
        "requests_per_s": round(int(metrics.requests) / traffic_s, 2),
        **timings,
        "resources": resources.figures(),
    }
    summary["per_unit"] = per_unit(summary, stack)
    checks = check_all(
        engine,
        list(capacity_of),
        [c.id for c in clients],
        default_capacity,
        int(summary["errors"]),
        run.chat,
    )
    engine.dispose()
    return summary, checks
