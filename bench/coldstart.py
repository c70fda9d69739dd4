"""Cold start: how long each function's entry module takes to import in a fresh interpreter
(what every Cloud Run scale-out pays before serving). Median of several runs, milliseconds."""

from __future__ import annotations

import statistics
import subprocess
import sys

from devstack.stack import REPO_ROOT, LocalStack
from shared.catalogue import load_catalogue

RUNS = 5
_PROBE = (
    "import time; t = time.perf_counter(); import functions.{source}.main; "
    "print((time.perf_counter() - t) * 1000)"
)


def import_ms(source: str, env: dict[str, str]) -> float:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(source=source)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=env,
            check=True,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return round(statistics.median(samples), 1)


def run(stack: LocalStack) -> dict[str, float]:
    import os

    env = {**os.environ, **stack.env(), "PYTHONPATH": str(REPO_ROOT)}
    results: dict[str, float] = {}
    for entry in load_catalogue().http_functions():
        results[f"import_ms_{entry.source}"] = import_ms(entry.source, env)
    noop = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; t=time.perf_counter(); import functions_framework;"
            " print((time.perf_counter()-t)*1000)",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        check=True,
    ).stdout
    results["import_ms_functions_framework_alone"] = round(float(noop.strip()), 1)
    return results
