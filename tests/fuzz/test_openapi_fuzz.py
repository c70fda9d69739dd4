"""Schemathesis against the project's own OpenAPI documents, as served by the running stack.

Every operation of the four documents (client, mitra, shared, admin) is fuzzed with
schema-valid and schema-violating inputs, each audience carrying a valid token of its role:
no answer may be a 5xx, every status must be documented, every body must match its schema,
and every 4xx must carry the contract's error shape. Bounded: MAX_EXAMPLES per operation and
mode, derandomized so a CI failure reproduces locally.

SSE streams (any operation answering `text/event-stream`) are excluded: a positive example
opens a stream that only ends after SSE_MAX_STREAM_S. Their own tests cover them
(tests/pairing/test_events.py: snapshot, wrong role, keep-alive, replay).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.domain import settings as product_settings
from tests.admin.conftest import SEEDED_EMAIL, SEEDED_PASSWORD, login, random_email
from tests.conftest import bearer, random_phone

MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture(scope="module")
def callers(stack, api, admin_api, accounts, make_client, make_mitra) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """One valid caller per audience; the admin one is a superadmin made for fuzzing, so writes
    never touch the seeded operator. Settings are restored and the mitra is offline after."""
    client = make_client("Klien Fuzz")
    linked = accounts.link_phone(client.account, random_phone())
    assert api.post("/api/client/auth/link", headers=bearer(linked.id_token)).status_code == 200
    mitra = make_mitra("Mitra Fuzz")
    root = login(admin_api, SEEDED_EMAIL, SEEDED_PASSWORD).json()
    email, password = random_email("fuzz"), "fuzz-password-123"
    created = admin_api.post(
        "/api/admin/admins",
        json={"email": email, "password": password, "role": "superadmin"},
        headers=bearer(root["token"]),
    )
    assert created.status_code == 201, created.text
    operator = login(admin_api, email, password).json()
    saved_settings = product_settings.current()
    try:
        yield {
            "client": (api, bearer(linked.id_token)),
            "mitra": (api, mitra.headers),
            "shared": (api, {"x-callback-token": stack.options.xendit_callback_token}),
            "admin": (admin_api, bearer(operator["token"])),
        }
    finally:
        product_settings.save(saved_settings, None)
        api.put("/api/mitra/presence", json={"status": "offline"}, headers=mitra.headers)


# Account deletion ends the fuzzing caller for good (tests/privacy covers it, bad input
# included); every other operation keeps its caller usable.
IRREVERSIBLE = {("DELETE", "/api/client/auth/me")}


def _streams(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if any(
            "text/event-stream" in response.get("content", {})
            for response in operation["responses"].values()
        )
    }


def _error_shape(response: Any) -> None:
    body = response.json()
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str)
    assert isinstance(error["details"], dict)


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> None:
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if 400 <= response.status_code < 500:
            _error_shape(response)

    run()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("audience", ["client", "mitra", "shared", "admin"])
def test_every_operation_answers_within_its_contract_under_fuzzing(callers, audience):
    http, headers = callers[audience]
    document = http.get(f"/api/{audience}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    base_url = str(http.base_url).rstrip("/")
    streams = _streams(document)

    fuzzed, failures = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in streams | IRREVERSIBLE:
            continue
        fuzzed.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, base_url, headers)
            except Unsatisfiable:  # nothing to violate (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE
            except Exception as exc:  # collect every operation's failure, not just the first
                failures.append(f"{operation.label} [{mode.value}]: {exc!r}"[:2000])

    assert fuzzed
    assert failures == [], "\n\n".join(failures)
