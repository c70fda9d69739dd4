"""Cold start: how long each function's entry module takes to import in a fresh interpreter
(what every Cloud Run scale-out pays before serving). Median of several runs, milliseconds.

- import_ms_<function>: `import functions.<function>.main`.
- import_ms_functions_framework_alone: functions-framework (with Flask) and nothing else.
- import_ms_runtime_floor: what every HTTP function needs on its first request whatever our
  code does — functions-framework, SQLAlchemy, redis-py, pydantic-settings. The gap between
  a function's figure and this floor is what our own modules cost. The heavy SDKs that no
  request path needs at once (firebase-admin, google-cloud-pubsub, google-cloud-scheduler,
  xendit) are imported on first use and are in neither figure.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from devstack.stack import REPO_ROOT, LocalStack
from shared.catalogue import load_catalogue

RUNS = 5
RUNTIME = "functions_framework, sqlalchemy, redis, pydantic_settings"


def import_ms(modules: str, env: dict[str, str]) -> float:
    """Median time to `import <modules>` in a fresh interpreter, ms."""
    probe = (
        f"import time; t = time.perf_counter(); import {modules}; "
        "print((time.perf_counter() - t) * 1000)"
    )
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=env,
            check=True,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return round(statistics.median(samples), 1)


def run(stack: LocalStack) -> dict[str, float]:
    env = {**os.environ, **stack.env(), "PYTHONPATH": str(REPO_ROOT)}
    results: dict[str, float] = {}
    for entry in load_catalogue().http_functions():
        results[f"import_ms_{entry.source}"] = import_ms(f"functions.{entry.source}.main", env)
    results["import_ms_functions_framework_alone"] = import_ms("functions_framework", env)
    results["import_ms_runtime_floor"] = import_ms(RUNTIME, env)
    return results
