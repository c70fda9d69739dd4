"""Cold start stays lean: importing an HTTP function's entry module loads none of the heavy
libraries its handlers use on first use (docs/performance.md, "Cold start"), so a new
top-level `import sqlalchemy` or `import jwt` somewhere in shared/ shows up here rather than
as a slower scale-out. (Timings are bench/coldstart.py's job.)"""

from __future__ import annotations

import pytest

from tests.support.fresh_interpreter import HTTP_SOURCES, run_probe

ON_FIRST_USE = (
    "sqlalchemy",
    "pg8000",
    "alembic",
    "limits",
    "jwt",
    "firebase_admin",
    "google.cloud.pubsub",
    "google.cloud.scheduler",
    "google.cloud.sql.connector",
    "xendit",
    "cryptography.hazmat.primitives.ciphers.aead",
    "yaml",
)
# Not used by any function (shared/config.py reads the environment itself); a test
# dependency still installs it, so an import of it would go unnoticed without this.
NEVER = ("pydantic_settings",)
# The presence function's HTTP instances serve heartbeats; its sweeper is another entry point.
NOT_FOR_HEARTBEATS = ("functions.presence.sweep", "shared.domain.sweeper")
# Domain modules of rare requests (erasure, export, readiness, rerouting, the dashboard and
# the operators' client/mitra administration): each reaches much of shared/, and every
# function that serves them loads them with the first such request.
RARE = (
    "shared.domain.erasure",
    "shared.domain.exports",
    "shared.domain.health",
    "shared.domain.sweeper",
    "shared.domain.sweeper_health",
    "shared.domain.dashboard",
    "shared.domain.reroute",
    "shared.domain.credit_adjustments",
    "shared.domain.orphans",
    "shared.domain.admin.clients",
    "shared.domain.admin.mitras",
)
# Chat (the sessions function's message store, keyring and rate limiter): loaded with the
# first chat request; listing and reading sessions, an app's first calls, need none of it.
CHAT = ("shared.domain.chat", "shared.chat_crypto", "shared.store.chat_messages")


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_importing_a_function_loads_no_heavy_library(source):
    watched = ON_FIRST_USE + RARE + CHAT + NEVER
    watched += NOT_FOR_HEARTBEATS if source == "presence" else ()
    probe = (
        f"import json, sys; import functions.{source}.main; "
        f"print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))"
    )
    assert run_probe(probe) == []


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_a_function_starts_with_the_collector_on_and_its_start_frozen(source):
    """shared.startup holds the cyclic GC off while the entry module loads: it must be back
    on afterwards (a process without it would grow on every cycle of garbage), and what
    loading created must sit in the permanent generation."""
    probe = (
        f"import gc, json; import functions.{source}.main; "
        "print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))"
    )
    enabled, frozen = run_probe(probe)
    assert enabled is True
    assert frozen > 10_000


def test_admin_loads_its_route_modules_and_their_schemas_on_first_use():
    """The admin function's route modules load with the first request under their prefixes
    (`Api.include`, functions/admin/routes/__init__.py), so a top-level import of one of
    them, or of an admin schema, in code the entry module reaches shows up here."""
    probe = (
        "import json, sys; import functions.admin.main; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith("
        "('functions.admin.routes.', 'shared.schemas.admin.', 'shared.identity.operators', "
        "'shared.identity.tickets', 'shared.web.sse')))))"
    )
    assert run_probe(probe) == []


def test_no_pydantic_plugin_is_installed_for_the_start_to_skip():
    """shared.startup turns pydantic's plugin discovery off to spare every function's start
    a scan of all installed distributions; that drops nothing only while none is installed.
    If this fails, a dependency brought one: decide whether functions should load it (then
    drop the setting in shared/startup.py)."""
    probe = (
        "import importlib.metadata as md, json; "
        "print(json.dumps([e.value for e in md.entry_points(group='pydantic')]))"
    )
    assert run_probe(probe) == []


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_a_function_starts_without_scanning_for_pydantic_plugins(source):
    probe = (
        f"import json, os; import functions.{source}.main; "
        "from pydantic.plugin import _loader; "
        "print(json.dumps([os.environ.get('PYDANTIC_DISABLE_PLUGINS'), _loader._plugins]))"
    )
    assert run_probe(probe) == ["__all__", None]
