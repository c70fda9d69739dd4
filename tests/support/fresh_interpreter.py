"""Probes run in a fresh interpreter: what importing a function does at start (its modules,
its models, the collector) can only be seen in a process that has imported nothing yet."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from devstack.stack import REPO_ROOT
from shared.catalogue import load_catalogue

# Every function source deployed with an HTTP trigger.
HTTP_SOURCES = sorted({entry.source for entry in load_catalogue().http_functions()})


def run_probe(probe: str, env: dict[str, str] | None = None) -> Any:
    """`python -c probe` from the repository root (in `env`, else this process's
    environment); the JSON its last printed line holds."""
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        check=False,
        timeout=60,
    )
    if out.returncode != 0:
        raise RuntimeError(f"probe failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
