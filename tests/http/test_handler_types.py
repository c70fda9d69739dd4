"""Every handler's signature says what its route gives it: `Call[Caller, Body, Query]` names
the caller type its auth policy returns, and the body and query models the route parses.
mypy checks the handler's body against that signature; this checks the signature against the
route table, so a handler cannot claim a caller or a model its route does not provide."""

from __future__ import annotations

import typing

import pytest

from functions.admin.routes import api as admin_api
from shared.web.api import Call, Route
from shared.web.openapi import public_apis

ROUTES = [route for api in [*public_apis(), admin_api] for route in api.routes]


def _caller_type(route: Route) -> object:
    policy = getattr(route.auth, "inner", route.auth)  # a stream's policy wraps a token policy
    returned = typing.get_type_hints(type(policy).__call__)["return"]
    return None if returned is type(None) else returned


def _model(model: type | None) -> object:
    return None if model is None else model


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_the_handler_states_what_its_route_gives_it(route: Route):
    hint = typing.get_type_hints(route.handler)["call"]
    assert typing.get_origin(hint) is Call, f"{route.handler.__name__} takes {hint!r}"
    caller, body, query = (None if a is type(None) else a for a in typing.get_args(hint))
    assert caller == _caller_type(route)
    assert body == _model(route.body)
    assert query == _model(route.query)
