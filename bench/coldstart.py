"""Cold start: what every Cloud Run scale-out pays before it answers, measured in fresh
interpreters. Medians of RUNS rounds, milliseconds; each round runs every probe once, so
a drift in the machine's speed (another process, the CPU's clock) reaches every figure alike
instead of the few measured while it lasted (five runs of one probe after another moved a
function by ±50 ms between quiet runs).

- import_ms_<function>: `import functions.<function>.main`. (The admin function loads each
  route module with the first request under its paths, `Api.include`: its import counts none
  of them, its cold_first_answer_ms below the one `GET /api/admin/auth/me` needs.)
- cold_first_answer_ms_<function>: that import plus the function's first real request,
  served in the same fresh interpreter through its entry point (a Flask request built with
  werkzeug, as functions-framework hands it over): everything a function defers to first
  use — SQLAlchemy and the pg8000 connection, the Valkey connection and script load,
  firebase-admin, PyJWT — is paid here, so laziness cannot hide cost. The request is a cheap
  one each function serves daily (FIRST_REQUESTS; presence's is the heartbeat). Not
  included: functions-framework building its Flask app and gunicorn starting (the same
  for every function; `import_ms_functions_framework_alone` shows their import).
- import_ms_functions_framework_alone: functions-framework (with Flask) and nothing else.
- import_ms_runtime_floor: what the lightest function (presence, whose heartbeat needs no
  SQL) cannot serve its first request without, whatever our code does — functions-framework,
  redis-py and pydantic's models (its typed configuration and request models; until issue
  19's second pass this was pydantic-settings, ≈ 40 ms more, which the configuration no
  longer uses). The gap between a function's
  `import_ms` and this floor is what our own modules and the libraries they choose to import
  eagerly cost. (Before the cold-start work the floor also counted SQLAlchemy, which every
  function imported; now it loads on a function's first SQL statement.) The floor and
  functions-framework alone are imported as an entry module imports them, inside
  `shared.startup.cold_start()` (no cyclic GC passes while loading), so the gap compares
  like with like.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
from typing import Any

from devstack.stack import REPO_ROOT, LocalStack
from shared.catalogue import load_catalogue
from tests.support.fresh_interpreter import run_probe

RUNS = 9
RUNTIME = "functions_framework, redis, pydantic.main"

# function source → (method, path, whose token, expected status) of a cheap first request
FIRST_REQUESTS: dict[str, tuple[str, str, str, int]] = {
    "presence": ("POST", "/api/mitra/presence/heartbeat", "mitra", 204),
    "auth": ("GET", "/api/mitra/auth/me", "mitra", 200),
    "pairing": ("GET", "/api/mitra/pairing-requests", "mitra", 200),
    "sessions": ("GET", "/api/mitra/sessions", "mitra", 200),
    "payments": ("GET", "/api/client/packages", "client", 200),
    "admin": ("GET", "/api/admin/auth/me", "operator", 200),
}

_IMPORT_PROBE = """
import time
t = time.perf_counter()
import {modules}
print((time.perf_counter() - t) * 1000)
"""

# Libraries alone, loaded as an entry module loads them (shared/startup.py).
_LIBRARY_PROBE = """
import time
t = time.perf_counter()
from shared.startup import cold_start
with cold_start():
    import {modules}
print((time.perf_counter() - t) * 1000)
"""

# The request is built after the import is timed and before the call is, so the probe's own
# werkzeug.test import counts in neither.
_FIRST_ANSWER_PROBE = """
import json, os, time
t = time.perf_counter()
import functions.{source}.main as main
imported = time.perf_counter() - t
from flask import Request
from werkzeug.test import EnvironBuilder
request = Request(EnvironBuilder(
    method={method!r}, path={path!r}, headers={{"Authorization": os.environ["PROBE_AUTH"]}}
).get_environ())
t = time.perf_counter()
response = main.{entry_point}(request)
answered = time.perf_counter() - t
assert response.status_code == {status}, (response.status_code, response.get_data()[:300])
print(json.dumps({{"import": imported * 1000, "first": (imported + answered) * 1000}}))
"""


def _sample(probe: str, env: dict[str, str], key: str | None) -> float:
    """One run of `probe` in a fresh interpreter: its last line (or that JSON's `key`)."""
    value = run_probe(probe, env)
    return float(value[key]) if key else float(value)


def _tokens(stack: LocalStack) -> dict[str, str]:
    """A mitra (logged in, online), a client with a profile, and the seeded superadmin."""
    from bench.presence import _online_mitras, _request
    from tests.support.firebase_accounts import FirebaseAccounts

    mitra = _online_mitras(stack, stack.public_url, count=1)[0]
    accounts = FirebaseAccounts(stack.emulator.host_port, stack.emulator.project_id)
    client = accounts.sign_in_anonymously().id_token
    _request(
        stack.public_url,
        "POST",
        "/api/client/auth/register",
        client,
        body={"display_name": "Klien Bench"},
        expect=201,
    )
    login: Any = json.loads(
        _request(
            stack.admin_url,
            "POST",
            "/api/admin/auth/login",
            body={"email": "admin@halobestie.local", "password": stack.options.admin_password},
            expect=200,
        )
    )
    return {"mitra": mitra, "client": client, "operator": login["token"]}


def _online_again(stack: LocalStack, mitra: str) -> None:
    from bench.presence import _request

    _request(
        stack.public_url, "PUT", "/api/mitra/presence", mitra, body={"status": "online"}, expect=200
    )


def _compile_sources() -> None:
    """Our modules compiled to bytecode before any probe, as a deployed image has them: Cloud
    Run functions' Python buildpack runs `python3 -m compileall -f -q .` over the source at
    build time (GoogleCloudPlatform/buildpacks, cmd/python/functions_framework). Without
    this, a shell with PYTHONDONTWRITEBYTECODE set compiled them again in every probe,
    ≈ 35–40 ms more for admin."""
    for package in ("shared", "functions", "devstack"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1, workers=1)


def run(stack: LocalStack) -> dict[str, float]:
    _compile_sources()
    env = {**os.environ, **stack.env(), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("SETTINGS_CACHE_S", None)
    tokens = _tokens(stack)
    # figure name → (probe, its environment, the JSON key of its figure, or None)
    probes: dict[str, tuple[str, dict[str, str], str | None]] = {}
    for entry in load_catalogue().http_functions():
        module = f"functions.{entry.source}.main"
        probes[f"import_ms_{entry.source}"] = (_IMPORT_PROBE.format(modules=module), env, None)
        first = FIRST_REQUESTS.get(entry.source)
        if first is not None:
            method, path, who, status = first
            probe = _FIRST_ANSWER_PROBE.format(
                source=entry.source,
                entry_point=entry.entry_point,
                method=method,
                path=path,
                status=status,
            )
            auth = {**env, "PROBE_AUTH": f"Bearer {tokens[who]}"}
            probes[f"cold_first_answer_ms_{entry.source}"] = (probe, auth, "first")
    for name, modules in (
        ("functions_framework_alone", "functions_framework"),
        ("runtime_floor", RUNTIME),
    ):
        probes[f"import_ms_{name}"] = (_LIBRARY_PROBE.format(modules=modules), env, None)
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(RUNS):
        _online_again(stack, tokens["mitra"])  # a round may outlast the heartbeat timeout
        for name, (probe, probe_env, key) in probes.items():
            samples[name].append(_sample(probe, probe_env, key))
    return {name: round(statistics.median(values), 1) for name, values in samples.items()}
