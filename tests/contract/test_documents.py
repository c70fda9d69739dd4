"""The served OpenAPI documents against the hand-written contract copy, both directions:
every contract route is documented with its success statuses and its error codes under the
contract's status; every documented route is in the contract, or listed as an allowed extra
(or as pending: owned by another branch)."""

from __future__ import annotations

from typing import Any

from shared.errors import STATUS_BY_CODE


def _error_codes(operation: dict[str, Any]) -> dict[str, int]:
    """code → status, as the operation documents them."""
    codes: dict[str, int] = {}
    for status, response in operation["responses"].items():
        for code in response.get("x-error-codes", []):
            codes[code] = int(status)
    return codes


def test_every_contract_route_is_documented_with_its_statuses_and_codes(contract, operations):
    statuses = {**contract["generic_errors"], **contract["codes"]}
    problems = []
    for route, expected in contract["routes"].items():
        operation = operations.get(route)
        if operation is None:
            problems.append(f"{route}: not documented")
            continue
        documented = set(operation["responses"])
        for status in expected["success"]:
            if str(status) not in documented:
                problems.append(f"{route}: success {status} not documented")
        codes = _error_codes(operation)
        for code in expected.get("errors", []):
            if codes.get(code) != statuses[code]:
                problems.append(f"{route}: {code} documented as {codes.get(code)}")
        # Derived for every route: per-caller limits and unreachable stores, with Retry-After.
        for code in ("rate_limited", "unavailable"):
            status = str(statuses[code])
            response = operation["responses"].get(status, {})
            if code not in response.get("x-error-codes", []) and not route.endswith("/health"):
                problems.append(f"{route}: {code} not documented")
            elif "Retry-After" not in response.get("headers", {}) and code in response.get(
                "x-error-codes", []
            ):
                problems.append(f"{route}: {status} without Retry-After")
        if operation.get("security") and codes.get("unauthenticated") != 401:
            problems.append(f"{route}: authenticated but 401 unauthenticated not documented")
        # Only what the route can answer: no 200 "already existed" on every 201.
        for status in documented:
            if status.startswith("2") and int(status) not in expected["success"]:
                problems.append(f"{route}: documents success {status} the contract does not have")
    assert problems == []


def test_every_documented_route_is_in_the_contract_or_an_allowed_extra(contract, operations):
    known = set(contract["routes"]) | set(contract["extras"]) | set(contract.get("pending", []))
    assert sorted(set(operations) - known) == []


def test_every_code_has_one_status_in_every_document_and_the_contracts(contract, operations):
    expected = {**contract["generic_errors"], **contract["codes"]}
    seen: dict[str, set[int]] = {}
    for operation in operations.values():
        for code, status in _error_codes(operation).items():
            seen.setdefault(code, set()).add(status)
    assert {c: s for c, s in seen.items() if len(s) > 1} == {}
    assert {c: s.pop() for c, s in seen.items() if c in expected} == {
        c: expected[c] for c in seen if c in expected
    }
    # The codes the server knows and the contract names agree too.
    assert {c: STATUS_BY_CODE[c] for c in expected if c in STATUS_BY_CODE} == {
        c: s for c, s in expected.items() if c in STATUS_BY_CODE
    }


def test_every_contract_event_type_is_in_its_streams_asyncapi_document(contract, api, admin_api):
    served = {a: api.get(f"/api/{a}/asyncapi.json").json() for a in ("client", "mitra")}
    served["admin"] = admin_api.get("/api/admin/asyncapi.json").json()
    for audience, document in served.items():
        names = {m["name"] for m in document["components"]["messages"].values()}
        expected = set(contract["events"][audience]) | set(contract["event_extras"][audience])
        assert names == expected, audience
