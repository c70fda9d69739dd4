"""`python -m bench` (what `nox -s bench` runs): start a private local stack on free ports,
run every benchmark module, and write one flat JSON report to bench/results/latest.json.

Each module in BENCHMARKS exposes `run(stack) -> dict[str, float]`. Figures are ratios
measured in one run wherever a lone absolute time would mean little on another machine.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from devstack.servers import free_port
from devstack.stack import REPO_ROOT, LocalStack, Ports, StackOptions

BENCHMARKS = ("coldstart", "presence", "pairing", "streams", "push", "chat")
REPORT = REPO_ROOT / "bench" / "results" / "latest.json"


def _meta() -> dict[str, object]:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    ).stdout.strip()
    return {
        "commit": commit,
        "date": datetime.now(UTC).isoformat(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }


def main(selected: list[str]) -> None:
    names = [name for name in BENCHMARKS if not selected or name in selected]
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="halo-bench-") as data_dir:
        ports = Ports(*(free_port() for _ in range(9)))
        stack = LocalStack(
            StackOptions(
                data_dir=Path(data_dir),
                ports=ports,
                environment="bench",
                sweep_interval_s=0,
                settings_cache_s=5,
                # The benchmarks' callers press faster than people do: the chat benchmark's
                # clients send faster than people type, and the stream benchmark's one
                # client opens more requests in a minute than the per-client limit allows.
                extra_env={
                    "LOG_LEVEL": "WARNING",
                    "CHAT_SEND_RATE": "1000/second;60000/minute",
                    "PAIRING_REQUEST_RATE": "1000/second;100000/hour",
                },
            )
        )
        stack.start()
        os.environ.update(stack.env())
        try:
            for name in names:
                try:
                    module = importlib.import_module(f"bench.{name}")
                except ModuleNotFoundError:
                    print(f"- {name}: not written yet, skipped", flush=True)
                    continue
                print(f"- {name}…", flush=True)
                report.update(module.run(stack))
        finally:
            stack.stop()
    report["meta"] = _meta()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    width = max((len(key) for key in report if key != "meta"), default=10)
    print(f"\n{'metric':<{width}}  value")
    for key, value in sorted(report.items()):
        if key != "meta":
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"{key:<{width}}  {shown}")
    print(f"\nwritten to {REPORT.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
