"""The live view's eyes: what the stores say about the people of a run, twice a second."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from simulate.actors import World


class Sampler(threading.Thread):
    """Reads what the stores say twice a second: who is online, available, busy; how many
    search and hold sessions; whether any mitra ever holds more than its capacity."""

    every_s = 0.5

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
            self.world.wait(self.every_s)

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
