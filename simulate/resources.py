"""What the machine spends while a simulation runs, read from the servers themselves: Valkey's
own accounting (INFO cpu and commandstats), PostgreSQL's pg_stat_activity, and each
process's CPU time from /proc. Every figure is a delta over the measured window divided by
its wall time, so it is a rate measured in this run, never an estimate."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import redis
import sqlalchemy as sa

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (gunicorn's arbiter and worker, postgres's backends)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text(encoding="utf-8").split()
                pending += [int(c) for c in children]
        except OSError:
            continue  # exited meanwhile
    return found


def cpu_s(pid: int, *, tree: bool = True) -> float:
    """User + system CPU seconds of the process (tree, unless `tree` is False; all
    threads); exited members count 0."""
    ticks = 0
    for member in process_tree(pid) if tree else [pid]:
        try:
            stat = Path(f"/proc/{member}/stat").read_text(encoding="utf-8")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """VmRSS of the process tree, MiB."""
    total_kb = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, StopIteration):
            status = Path(f"/proc/{member}/status").read_text(encoding="utf-8")
            total_kb += next(
                int(line.split()[1]) for line in status.splitlines() if line[:6] == "VmRSS:"
            )
    return round(total_kb / 1024, 1)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat: what
    every process used, ours and anyone else's."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def _valkey_usec(client: redis.Redis) -> dict[str, float]:
    """Microseconds Valkey's main thread has spent running each command (commandstats)."""
    stats = client.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): float(v["usec"])
        for name, v in stats.items()
        if isinstance(v, dict)
    }


def _valkey_cpu_s(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


class Resources(threading.Thread):
    """Samples every `every_s` between `begin()` and `end()`; `figures()` afterwards.
    `processes`: label → pid of the process (tree) whose CPU is accounted."""

    def __init__(
        self, valkey_url: str, engine: sa.Engine, processes: dict[str, int], every_s: float = 2.0
    ) -> None:
        super().__init__(name="resources", daemon=True)
        self.engine, self.processes, self.every_s = engine, processes, every_s
        self.done = threading.Event()
        self.valkey_clients: list[int] = []
        self.pg_connections: list[int] = []
        self.pg_active: list[int] = []
        self._valkey = redis.Redis.from_url(valkey_url, decode_responses=True)
        self._start: dict[str, float] = {}
        self._end: dict[str, float] = {}
        self._rss: dict[str, float] = {}

    def _snapshot(self) -> dict[str, float]:
        usec = _valkey_usec(self._valkey)
        now = {
            "wall": time.monotonic(),
            "valkey_busy_us": sum(usec.values()),
            **{f"valkey_us:{name}": value for name, value in usec.items()},
            "valkey_cpu_s": _valkey_cpu_s(self._valkey),
            "valkey_commands": float(self._valkey.info("stats").get("total_commands_processed", 0)),
        }
        now["machine_busy_s"], now["machine_total_s"] = machine_cpu()
        for label, pid in self.processes.items():
            # This process's children are the stack's servers, accounted by their own labels.
            now[f"cpu:{label}"] = cpu_s(pid, tree=pid != os.getpid())
        return now

    def begin(self) -> None:
        self._start = self._snapshot()
        self.start()

    def end(self) -> None:
        self.done.set()
        self.join(10)
        self._end = self._snapshot()
        self._rss = {
            label: rss_mb(pid) for label, pid in self.processes.items() if pid != os.getpid()
        }
        self._valkey.close()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            try:
                self.valkey_clients.append(int(self._valkey.info("clients")["connected_clients"]))
                with self.engine.connect() as connection:
                    total, active = connection.execute(
                        sa.text(
                            "SELECT count(*), count(*) FILTER (WHERE state = 'active')"
                            " FROM pg_stat_activity WHERE backend_type = 'client backend'"
                        )
                    ).one()
                self.pg_connections.append(int(total))
                self.pg_active.append(int(active))
            except (redis.RedisError, sa.exc.SQLAlchemyError):
                continue  # one missed sample; the next one counts

    def cpu_share(self) -> dict[str, float]:
        """CPU seconds per wall second of each process (tree) over the window."""
        wall = self._end["wall"] - self._start["wall"]
        return {
            label: round((self._end[f"cpu:{label}"] - self._start[f"cpu:{label}"]) / wall, 3)
            for label in self.processes
        }

    def figures(self) -> dict[str, object]:
        wall = self._end["wall"] - self._start["wall"]

        def per_s(key: str) -> float:
            return (self._end[key] - self._start[key]) / wall

        def stats(samples: list[int]) -> dict[str, float]:
            if not samples:
                return {}
            return {"max": max(samples), "mean": round(sum(samples) / len(samples), 1)}

        ours = sum(self.cpu_share().values())
        by_command = {
            key.removeprefix("valkey_us:"): round(
                (self._end[key] - self._start.get(key, 0.0)) / wall / 1000, 3
            )
            for key in self._end
            if key.startswith("valkey_us:")
        }
        top = dict(sorted(by_command.items(), key=lambda kv: -kv[1])[:10])
        return {
            "window_s": round(wall, 1),
            "cpus": os.cpu_count(),
            # Cores busy on the whole machine (anyone's work) and in this run's processes.
            "machine_cores_busy": round(per_s("machine_busy_s"), 2),
            "run_cores_busy": round(ours, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 1),
            "valkey_busy_ms_per_s": round(per_s("valkey_busy_us") / 1000, 2),
            "valkey_busy_ms_per_s_by_command": top,
            "valkey_cpu_share": round(per_s("valkey_cpu_s"), 3),
            "valkey_commands_per_s": round(per_s("valkey_commands"), 1),
            "valkey_connected_clients": stats(self.valkey_clients),
            "pg_connections": stats(self.pg_connections),
            "pg_connections_active": stats(self.pg_active),
            "cpu_share": self.cpu_share(),
            "rss_mb_at_end": self._rss,
        }
