"""Every route of every function × {no token, garbage token, token for another Firebase
project, wrong role, suspended}: each refused with the contract's status and code.

Routes come from the functions' own route tables, so a new route is covered the moment it
is declared. Path parameters are filled with fresh UUIDs: authentication runs before any
lookup, so the answer must be the refusal, not a 404.
"""

from __future__ import annotations

import importlib
import re
import uuid

import pytest
import sqlalchemy as sa

from shared.catalogue import load_catalogue
from shared.web.api import Route
from tests.conftest import bearer

PATH_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _routes() -> list[tuple[str, Route]]:
    found = []
    for entry in load_catalogue().http_functions():
        api = importlib.import_module(f"functions.{entry.source}.routes").api
        for route in api.routes:
            found.append((entry.ingress, route))
    return found


ROUTES = _routes()
PROTECTED = [(ingress, r) for ingress, r in ROUTES if r.auth.role != "open"]


def _url(route: Route) -> str:
    return PATH_PARAM.sub(lambda _: str(uuid.uuid4()), route.path)


def _call(http, route: Route, headers: dict[str, str]):
    return http.request(route.method, _url(route), headers=headers, json={})


@pytest.fixture(scope="module")
def identities(accounts, make_client, make_mitra, database):
    client = make_client("Klien Matriks")
    mitra = make_mitra("Mitra Matriks")
    suspended_client = make_client("Klien Diskors")
    suspended_mitra = make_mitra("Mitra Diskors")
    with database.begin() as connection:
        connection.execute(
            sa.text("UPDATE clients SET status = 'suspended' WHERE id = :id"),
            {"id": suspended_client.id},
        )
        connection.execute(
            sa.text("UPDATE mitras SET status = 'suspended' WHERE id = :id"),
            {"id": suspended_mitra.id},
        )
    return {
        "client": client.headers,
        "mitra": mitra.headers,
        "suspended_client": suspended_client.headers,
        "suspended_mitra": suspended_mitra.headers,
        "other_project": bearer(accounts.token_for_other_project()),
    }


def _http(api, admin_api, ingress: str):
    return api if ingress == "public" else admin_api


def _id(item: tuple[str, Route]) -> str:
    return f"{item[1].method} {item[1].path}"


@pytest.mark.parametrize("item", PROTECTED, ids=_id)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}],
    ids=["no-token", "garbage-token", "wrong-scheme"],
)
def test_missing_or_garbage_credentials_are_unauthenticated(api, admin_api, item, headers):
    ingress, route = item

    response = _call(_http(api, admin_api, ingress), route, headers)

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("item", PROTECTED, ids=_id)
def test_token_for_another_firebase_project_is_unauthenticated(api, admin_api, identities, item):
    ingress, route = item

    response = _call(_http(api, admin_api, ingress), route, identities["other_project"])

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"


WRONG_ROLE = {"client": "mitra", "mitra": "client"}


@pytest.mark.parametrize("item", [i for i in PROTECTED if i[1].auth.role in WRONG_ROLE], ids=_id)
def test_wrong_role_is_forbidden(api, identities, item):
    _, route = item

    response = _call(api, route, identities[WRONG_ROLE[route.auth.role]])

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "item", [i for i in PROTECTED if i[1].auth.role in ("client", "mitra")], ids=_id
)
def test_suspended_account_is_refused(api, identities, item):
    _, route = item

    response = _call(api, route, identities[f"suspended_{route.auth.role}"])

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "suspended"


@pytest.mark.parametrize("item", [i for i in PROTECTED if i[0] == "internal"], ids=_id)
def test_firebase_tokens_do_not_open_admin_routes(admin_api, identities, item):
    _, route = item

    for who in ("client", "mitra"):
        response = _call(admin_api, route, identities[who])
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthenticated"


def test_the_matrix_covers_every_protected_route():
    roles = {route.auth.role for _, route in PROTECTED}
    assert {"client", "mitra", "firebase"} <= roles
    assert {"operator:viewer", "operator:admin", "operator:superadmin"} <= roles
    assert len(PROTECTED) >= 6


# -- operator tokens on the internal (admin) routes ------------------------------------------

INTERNAL = [item for item in PROTECTED if item[0] == "internal"]


def _operator(admin_api, root_headers: dict[str, str], role: str) -> tuple[str, dict[str, str]]:
    email, password = f"matrix-{role}-{uuid.uuid4().hex[:8]}@halobestie.test", uuid.uuid4().hex
    created = admin_api.post(
        "/api/admin/admins",
        json={"email": email, "password": password, "role": role},
        headers=root_headers,
    )
    assert created.status_code == 201, created.text
    login = admin_api.post("/api/admin/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return created.json()["id"], bearer(login.json()["token"])


@pytest.fixture(scope="module")
def operators(admin_api):
    login = admin_api.post(
        "/api/admin/auth/login",
        json={"email": "admin@halobestie.local", "password": "test-admin-password"},
    )
    assert login.status_code == 200, login.text
    root = bearer(login.json()["token"])
    tokens = {role: _operator(admin_api, root, role)[1] for role in ("viewer", "admin")}
    suspended_id, tokens["suspended"] = _operator(admin_api, root, "superadmin")
    changed_id, tokens["old_password"] = _operator(admin_api, root, "superadmin")
    for operator_id, change in (
        (suspended_id, {"status": "suspended"}),
        (changed_id, {"password": uuid.uuid4().hex}),
    ):
        response = admin_api.patch(f"/api/admin/admins/{operator_id}", json=change, headers=root)
        assert response.status_code == 200, response.text
    return tokens


@pytest.mark.parametrize(
    "item",
    [i for i in INTERNAL if i[1].auth.role in ("operator:admin", "operator:superadmin")],
    ids=_id,
)
def test_viewer_token_is_forbidden_on_write_routes(admin_api, operators, item):
    _, route = item

    response = _call(admin_api, route, operators["viewer"])

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "item", [i for i in INTERNAL if i[1].auth.role == "operator:superadmin"], ids=_id
)
def test_admin_token_is_forbidden_on_superadmin_routes(admin_api, operators, item):
    _, route = item

    response = _call(admin_api, route, operators["admin"])

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("item", INTERNAL, ids=_id)
@pytest.mark.parametrize("who", ["suspended", "old_password"])
def test_suspended_or_password_changed_operator_token_is_unauthenticated(
    admin_api, operators, item, who
):
    _, route = item

    response = _call(admin_api, route, operators[who])

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("item", [i for i in PROTECTED if i[0] == "public"], ids=_id)
def test_operator_tokens_do_not_open_public_routes(api, operators, item):
    _, route = item

    response = _call(api, route, operators["admin"])

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"
