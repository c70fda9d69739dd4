"""Route modules loaded on first use (`Api.include`; the admin function's thirteen): a
process that loads them request by request answers every path and method exactly as one
that loaded its whole table at start — 404s, 405s with their Allow header, preflights, auth
before the body — and serves the same OpenAPI document, whichever module loaded first.

The answers are compared across two fresh interpreters with no stores behind them, so only
requests that end before a store is needed (no credentials, wrong method, unknown path) are
sent; tests/admin covers the routes themselves over real HTTP."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from functions.admin.routes import GROUPS
from shared.web import Api
from shared.web.openapi import openapi_path
from tests.support.fresh_interpreter import run_probe

ID = str(uuid.UUID(int=7))


def _requests() -> list[tuple[str, str, str]]:
    """For every admin route: its own method without credentials (a 401 before the body is
    read), the methods it lacks, a preflight, a trailing slash, and paths beside it that no
    route has — in reverse table order, so the lazy process loads the modules backwards."""
    from functions.admin.routes import api

    routes = [r for r in api.routes if "/openapi.json" not in r.path]
    out: list[tuple[str, str, dict[str, str]]] = [("GET", "/api/admin/unknown", {})]
    preflight = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}
    for route in reversed(routes):
        path = openapi_path(route.path).replace("{", "").replace("}", "")
        for name in ("operator_id", "mitra_id", "client_id", "package_id", "session_id"):
            path = path.replace(name, ID)
        for method in (route.method, "GET", "POST", "PUT", "PATCH", "DELETE"):
            out.append((method, path, {"Content-Type": "application/json"}))
        out += [
            ("OPTIONS", path, preflight),
            (route.method, path + "/", {}),
            ("GET", path + "x", {}),
            ("GET", path + "/unknown", {}),
            ("GET", path.replace(ID, "not-a-uuid"), {}),
        ]
    return list(dict.fromkeys((m, p, json.dumps(h)) for m, p, h in out))


_PROBE = """
import hashlib, json, sys
import functions.admin.main as main
from flask import Request
from werkzeug.test import EnvironBuilder
from shared.web.openapi import build_document

eager = {eager}
if eager:
    main.api.routes  # the whole table, as every module loaded at start
answers = []
with open({requests!r}) as file:
    requests = json.load(file)
for method, path, headers in requests:
    environ = EnvironBuilder(
        method=method, path=path, headers=json.loads(headers), data=b"{{not json"
    ).get_environ()
    response = main.admin(Request(environ))
    answers.append([
        method, path, response.status_code, response.get_data(as_text=True),
        {{k: v for k, v in response.headers.items() if k != "X-Request-Id"}},
    ])
    loaded = {{m for m in sys.modules if m.startswith("functions.admin.routes.")}}
    if path == "/api/admin/unknown" and loaded and not eager:
        raise SystemExit(f"an unknown path loaded {{sorted(loaded)}}")
document = json.dumps(build_document([main.api], "/api/admin/", "Halo Bestie control center API"))
print(json.dumps({{"answers": answers, "document": hashlib.sha256(document.encode()).hexdigest()}}))
"""


def test_loading_route_modules_on_first_use_changes_no_answer_and_no_document(tmp_path):
    requests = _requests()
    listed = tmp_path / "requests.json"
    listed.write_text(json.dumps(requests))
    lazy = run_probe(_PROBE.format(eager=False, requests=str(listed)))
    eager = run_probe(_PROBE.format(eager=True, requests=str(listed)))

    assert len(lazy["answers"]) == len(requests) > 250
    for got, expected in zip(lazy["answers"], eager["answers"], strict=True):
        assert got == expected
    statuses = {answer[2] for answer in lazy["answers"]}
    assert {401, 404, 405} <= statuses  # the comparison reached each kind of answer
    assert lazy["document"] == eager["document"]


def test_each_admin_route_lies_under_its_module_prefixes():
    """Checked as routes register: the whole table loads (no module refused its routes),
    and every route's module is one of the groups."""
    from functions.admin.routes import api

    modules = {r.handler.__module__ for r in api.routes if "/openapi.json" not in r.path}
    modules.discard("shared.web.asyncapi")
    assert modules == {f"functions.admin.routes.{name}" for name in GROUPS}


def _request(method: str, path: str) -> Request:
    return Request(EnvironBuilder(method=method, path=path).get_environ())


# The tables the probe modules below register on, by test (they import this module).
TABLES: dict[str, Api] = {}


def _probe_module(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(
        "from shared.identity.policies import OPEN\n"
        "from tests.http.test_lazy_routes import TABLES\n" + body
    )


def test_a_route_outside_its_module_prefixes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(TABLES, "stray", Api("probe", title="probe"))
    table = TABLES["stray"]
    _probe_module(
        tmp_path,
        "lazy_routes_probe_stray",
        "@TABLES['stray'].get('/api/elsewhere', auth=OPEN)\ndef stray(call):\n    return {}\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    table.include("lazy_routes_probe_stray", prefixes=("/api/probe",))

    with pytest.raises(ValueError, match="outside"):
        table.routes  # noqa: B018 (reading the whole table loads every group)


def test_a_module_that_fails_to_load_is_a_500_in_the_contract_shape_and_retried(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(TABLES, "flaky", Api("probe", title="probe"))
    table = TABLES["flaky"]
    marker = tmp_path / "broken"
    marker.write_text("")
    _probe_module(
        tmp_path,
        "lazy_routes_probe_flaky",
        "import pathlib\n"
        f"if pathlib.Path({str(marker)!r}).exists():\n"
        "    raise RuntimeError('a broken deployment')\n"
        "@TABLES['flaky'].get('/api/flaky/ok', auth=OPEN)\n"
        "def ok(call):\n"
        "    return {'ok': True}\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    table.include("lazy_routes_probe_flaky", prefixes=("/api/flaky",))
    try:
        first = table(_request("GET", "/api/flaky/ok"))
        assert first.status_code == 500
        assert json.loads(first.get_data()) == {
            "error": {
                "code": "internal",
                "message": "Something went wrong on our side.",
                "details": {},
            }
        }
        assert table(_request("GET", "/api/other")).status_code == 404  # others unaffected

        marker.unlink()
        second = table(_request("GET", "/api/flaky/ok"))
        assert second.status_code == 200
        assert json.loads(second.get_data()) == {"ok": True}
        assert [r.path for r in table.routes] == ["/api/flaky/ok"]  # registered once
    finally:
        sys.modules.pop("lazy_routes_probe_flaky", None)


_CONCURRENT_PROBE = """
import json, sys, threading
import functions.admin.main as main
from flask import Request
from werkzeug.test import EnvironBuilder

requests = {requests!r}
if {eager}:
    main.api.routes
barrier = threading.Barrier(len(requests))
answers = [None] * len(requests)

def first(index):
    method, path = requests[index]
    environ = EnvironBuilder(method=method, path=path).get_environ()
    barrier.wait()
    response = main.admin(Request(environ))
    answers[index] = [response.status_code, response.get_json()]

threads = [threading.Thread(target=first, args=(i,)) for i in range(len(requests))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
loaded = [r.method + " " + r.path for r in main.api._table.routes]  # before reading all
every = [r.method + " " + r.path for r in main.api.routes]
print(json.dumps({{"answers": answers, "loaded": loaded, "routes": every}}))
"""


def test_simultaneous_first_requests_load_each_module_once_and_answer_alike():
    """Thirteen modules loading while sixteen threads' first requests arrive at once: every
    answer is the one a process with the whole table gives."""
    from functions.admin.routes import api

    by_path: dict[str, str] = {}
    for route in api.routes:
        path = openapi_path(route.path).replace("{", "").replace("}", "")
        for name in ("operator_id", "mitra_id", "client_id", "package_id", "session_id"):
            path = path.replace(name, ID)
        if not path.endswith(("openapi.json", "asyncapi.json", "/auth/login")):
            by_path.setdefault(path, route.method)
    requests = sorted((method, path) for path, method in by_path.items())[:16]

    lazy = run_probe(_CONCURRENT_PROBE.format(requests=requests, eager=False))
    eager = run_probe(_CONCURRENT_PROBE.format(requests=requests, eager=True))

    assert len(requests) == 16
    assert lazy["answers"] == eager["answers"]
    assert {status for status, _ in lazy["answers"]} == {401}  # each reached its auth check
    assert len(lazy["loaded"]) == len(set(lazy["loaded"])) >= 16  # each module loaded once
    assert lazy["routes"] == eager["routes"]
