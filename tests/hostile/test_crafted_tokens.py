"""A crafted bearer token is a 401 on every Firebase-authenticated route, and on the
operator routes, before any third-party decoder can recurse on it or choke over it.

The first token here is the one that answered 500 everywhere: a header segment that
decodes to thousands of nested `[`, on which the Firebase SDK's JSON decoding recursed
until it failed. (gunicorn refuses request headers over 8,190 bytes itself, so the
over-the-wire variants stay below that; the 10,000-deep one goes straight to the
verifiers in-process.)"""

from __future__ import annotations

import pytest

from shared.errors import Unauthenticated
from shared.identity import firebase, operators
from tests.hostile.support import ROUTES, b64url, is_admin, route_id, url

_HEADER = '{"alg":"none","typ":"JWT"}'
_PAYLOAD = '{"sub":"x","aud":"demo-halo-bestie"}'


def _token(header: str, payload: str = _PAYLOAD, signature: str = "") -> str:
    return f"{b64url(header)}.{b64url(payload)}.{signature}"


CRAFTED = {
    "nested-array-header": _token("[" * 5000, signature="sig"),
    "nested-object-header": _token('{"a":' * 900 + "1" + "}" * 900),
    "nested-payload": _token(_HEADER, "[" * 5000),
    "huge-int-payload": _token(_HEADER, '{"exp":' + "9" * 5000 + "}"),
    "nan-payload": _token(_HEADER, '{"exp":NaN,"iat":1e400}'),
    "surrogate-uid": _token(_HEADER, '{"sub":"\\ud800","user_id":"\\ud800"}'),
    "header-not-an-object": _token('"RS256"', signature="sig"),
    "header-with-nested-value": _token('{"alg":{"x":[1]}}', signature="sig"),
    "not-base64": "!!!.$$$.%%%",
    "invalid-utf8": f"{b64url(bytes([0xFF, 0xFE, 0xFD]))}.{b64url(_PAYLOAD)}.sig",
    "two-segments": f"{b64url(_HEADER)}.{b64url(_PAYLOAD)}",
    "five-segments": _token(_HEADER) + "a.b.c",
    "oversize": f"{b64url(_HEADER)}.{'A' * 8000}.sig",
    "non-ascii": "\u00ff\u00ff.\u00ff\u00ff.\u00ff",
}


def _auth(token: str) -> dict[str, bytes]:
    # Bytes, so a non-ASCII token goes over the wire as the raw Latin-1 an attacker sends.
    return {"Authorization": f"Bearer {token}".encode("latin-1")}


FIREBASE_ROUTES = [r for r in ROUTES if r.auth.scheme == "firebase"]
OPERATOR_ROUTES = [r for r in ROUTES if r.auth.role.startswith("operator:")]


@pytest.mark.parametrize("route", FIREBASE_ROUTES + OPERATOR_ROUTES, ids=route_id)
def test_every_crafted_token_is_a_401_on_every_authenticated_route(
    route, api, admin_api, make_client
):
    http = admin_api if is_admin(route) else api
    for name, token in CRAFTED.items():
        response = http.request(route.method, url(route), headers=_auth(token), json={})
        assert response.status_code == 401, (name, response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "unauthenticated", name


def test_firebase_routes_still_work_after_crafted_tokens(api, make_client):
    client = make_client("Klien Token")
    for token in CRAFTED.values():
        api.get("/api/client/auth/me", headers=_auth(token))
    assert api.get("/api/client/auth/me", headers=client.headers).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_token("[" * 10_000, signature="sig"), id="10000-nested-header"),
        pytest.param(_token(_HEADER, "[" * 10_000), id="10000-nested-payload"),
        pytest.param("e" * 100_000, id="100KB-junk"),
    ],
)
def test_verifiers_refuse_tokens_too_big_for_the_http_server(stack, token):
    with pytest.raises(Unauthenticated):
        firebase.verify_id_token(token)
    with pytest.raises(Unauthenticated):
        operators.verify_token(token)
