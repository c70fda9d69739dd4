"""Callers for the hostile-input tests: one set sends the hostile requests, another set of
*different* users checks after each one that the same server still serves them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.admin.conftest import make_operator, root  # noqa: F401 (fixtures reused)
from tests.conftest import bearer


@dataclass
class Callers:
    headers_by_role: dict[str, dict[str, str]]
    bystander_client: dict[str, str]
    bystander_operator: dict[str, str]

    def headers_for(self, role: str) -> dict[str, str]:
        if role.startswith("operator:"):
            return self.headers_by_role["operator"]
        return self.headers_by_role.get(role, {})


@pytest.fixture(scope="module")
def callers(stack, make_client, make_mitra, root, make_operator):  # noqa: F811
    attacker = make_client("Klien Iseng")
    mitra = make_mitra("Mitra Iseng")
    return Callers(
        headers_by_role={
            "firebase": attacker.headers,
            "client": attacker.headers,
            "mitra": mitra.headers,
            "operator": root.headers,
            "xendit": {"x-callback-token": stack.env()["XENDIT_CALLBACK_TOKEN"]},
        },
        bystander_client=make_client("Klien Tetangga").headers,
        bystander_operator=bearer(make_operator("viewer").token),
    )
