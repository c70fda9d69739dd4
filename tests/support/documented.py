"""Every answer a test provokes is one its OpenAPI document admits.

The `api` and `admin_api` clients carry this response hook: when a request's method and path
match an operation of the served documents (client, mitra, shared, admin), its status must be
one of that operation's documented responses, and an error's code one of the codes that
status lists (`x-error-codes`). So the whole suite — every bad input, race and outage it
stages — checks the documents against what the servers really answer, beyond what the
fuzzer's random inputs reach. Paths matching no documented operation (unknown routes,
malformed ids) are left to their own tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

DOCUMENTS = {"public": ("client", "mitra", "shared"), "admin": ("admin",)}
METHODS = {"get", "post", "put", "patch", "delete"}


@dataclass
class Documented:
    base_url: str
    audiences: tuple[str, ...]
    _operations: list[tuple[re.Pattern[str], int, str, str, dict[str, Any]]] | None = None

    def operations(self) -> list[tuple[re.Pattern[str], int, str, str, dict[str, Any]]]:
        if self._operations is None:
            found = []
            with httpx.Client(base_url=self.base_url, timeout=30) as plain:
                for audience in self.audiences:
                    document = plain.get(f"/api/{audience}/openapi.json").json()
                    for path, item in document["paths"].items():
                        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                        for method, operation in item.items():
                            if method in METHODS:
                                found.append((pattern, path.count("{"), method, path, operation))
            # A literal segment wins over a parameter (`/sessions/active` over `/sessions/{id}`).
            found.sort(key=lambda entry: entry[1])
            self._operations = found
        return self._operations

    def check(self, response: httpx.Response) -> None:
        request = response.request
        method, path = request.method.lower(), request.url.path
        if path.endswith("/openapi.json") or path.endswith("/asyncapi.json"):
            return
        match = next(
            (
                (template, operation)
                for pattern, _, op_method, template, operation in self.operations()
                if op_method == method and pattern.match(path)
            ),
            None,
        )
        if match is None:
            return
        template, operation = match
        responses = operation.get("responses", {})
        where = f"{method.upper()} {template}"
        assert str(response.status_code) in responses, (
            f"{where} answered {response.status_code}, which its OpenAPI document does not list"
        )
        if response.status_code < 400:
            return
        if not response.headers.get("content-type", "").startswith("application/json"):
            return
        response.read()
        body = response.json()
        if not (isinstance(body, dict) and "error" in body):
            return  # a documented non-error body (e.g. the readiness view's 503)
        code = (body["error"] or {}).get("code")
        codes = responses[str(response.status_code)].get("x-error-codes", [])
        assert code in codes, (
            f"{where} answered {response.status_code} {code}, documented there: {codes}"
        )


def hook(base_url: str, audiences: tuple[str, ...]) -> Any:
    documented = Documented(base_url, audiences)
    return documented.check
