"""The contract copy (contract.yaml) and the served documents it is compared with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

CONTRACT_FILE = Path(__file__).with_name("contract.yaml")
_PARAM = re.compile(r"\{[^}]*\}")


def normal(path: str) -> str:
    """Path parameters are named by us, not by the contract: compare them as `{}`."""
    return _PARAM.sub("{}", path)


def load_contract() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT_FILE.read_text())


@pytest.fixture(scope="session")
def contract() -> dict[str, Any]:
    return load_contract()


@pytest.fixture(scope="session")
def documents(api: httpx.Client, admin_api: httpx.Client) -> dict[str, dict[str, Any]]:
    served = {a: api.get(f"/api/{a}/openapi.json") for a in ("client", "mitra", "shared")}
    served["admin"] = admin_api.get("/api/admin/openapi.json")
    assert {a: r.status_code for a, r in served.items()} == dict.fromkeys(served, 200)
    return {a: r.json() for a, r in served.items()}


@pytest.fixture(scope="session")
def operations(documents: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`METHOD /normal/path` → its OpenAPI operation, across the four documents."""
    found: dict[str, dict[str, Any]] = {}
    for document in documents.values():
        for path, item in document["paths"].items():
            for method, operation in item.items():
                found[f"{method.upper()} {normal(path)}"] = operation
    return found


# Fixtures the live checks reuse from the other test packages.
from tests.admin.conftest import admin, make_operator, root  # noqa: E402, F401
from tests.pairing.conftest import (  # noqa: E402, F401
    client_with_credits,
    online_mitras,
    pairing_request,
)
