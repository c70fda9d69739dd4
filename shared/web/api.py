"""A function's route table, and the one request pipeline every route goes through:

    request id → CORS preflight (`OPTIONS`, before any authentication) → route match
    → authenticate → parse body/query into typed models → handler (calls one domain
    function) → JSON response or the contract's error shape → CORS headers for an allowed
    origin (errors and streams included).

Routing is werkzeug's (the router Flask itself uses); bodies and queries are pydantic models
with unknown fields forbidden, so a typo in a field name is a 400 that names it.
"""

from __future__ import annotations

import importlib
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol

from flask import Request, Response
from pydantic import BaseModel, ValidationError
from typing_extensions import TypeVar
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from shared import errors
from shared.errors import DomainError
from shared.log import get_logger, log_event, request_id_var, trace_var
from shared.web import cors, untrusted
from shared.web.errors import domain_error_response, error_response

MAX_BODY_BYTES = 64 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")

logger = get_logger("halo.http")

# A handler states what its route's policy and models give it, once, in its signature:
# `Call[OperatorCaller, MitraPatchIn]`, `Call[ClientCaller]`, `Call[OperatorCaller, None,
# MitraQuery]`. Body and query default to None (the route declares neither).
CallerT = TypeVar("CallerT", default=Any)
BodyT = TypeVar("BodyT", bound=BaseModel | None, default=None)
QueryT = TypeVar("QueryT", bound=BaseModel | None, default=None)


class Authenticator(Protocol):
    """Turns a request into a caller, or raises `Unauthenticated`/`Forbidden`/`Suspended`."""

    scheme: str | None  # OpenAPI security scheme name; None for open routes
    role: str  # who passes: "open", "firebase", "client", "mitra", "operator:<role>"
    description: str
    # The refusals it may raise, documented on every route it guards.
    raises: tuple[type[DomainError], ...]

    def __call__(self, request: Request) -> Any: ...


@dataclass(slots=True)
class Call(Generic[CallerT, BodyT, QueryT]):
    """Everything a handler needs of one request, already checked and typed: the caller its
    route's policy admitted, the parsed body and query."""

    request: Request
    caller: CallerT
    body: BodyT
    query: QueryT
    params: Mapping[str, Any]
    request_id: str
    # Stream routes whose policy can re-check an open stream's caller (shared.web.sse).
    guard: Callable[[], str | None] | None = None

    @property
    def idempotency_key(self) -> str | None:
        key = self.request.headers.get("Idempotency-Key")
        if key is None:
            return None
        if not _IDEMPOTENCY_KEY.fullmatch(key):
            raise errors.InvalidRequest(
                "Idempotency-Key must be 1–128 visible ASCII characters.",
                fields=[{"field": "Idempotency-Key", "error": "invalid"}],
            )
        return key


@dataclass(slots=True)
class Reply:
    """A handler's answer when the route's default status is not the right one."""

    payload: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call[Any, Any, Any]], Any]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    auth: Authenticator
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    summary: str
    errors: tuple[type[DomainError], ...]
    stream: bool
    # Other success answers: status → a response model, or a description when the body is
    # the route's `response` model too (e.g. 200 for an idempotent create that existed).
    also: Mapping[int, type[BaseModel] | str]

    def refusals(self) -> tuple[type[DomainError], ...]:
        """Every error class this route may answer with: the pipeline's own (bad input,
        unknown method, body limits, per-caller limits, stores unreachable), its auth
        policy's, and the ones the route declares. The OpenAPI documents derive from this."""
        pipeline: list[type[DomainError]] = [
            errors.InvalidRequest,
            errors.NotFound,
            errors.MethodNotAllowed,
            errors.RateLimited,
            errors.Unavailable,
        ]
        if self.body is not None:
            pipeline += [errors.PayloadTooLarge, errors.UnsupportedMediaType]
        found: dict[type[DomainError], None] = {}
        for cls in (*pipeline, *getattr(self.auth, "raises", ()), *self.errors):
            found.setdefault(cls, None)
        return tuple(found)


# _Group and _Table are plain classes, not dataclasses: generating a dataclass's methods
# costs ≈ 0.4 ms each at import, which every function's cold start would pay for two
# helpers that only the admin function uses.


class _Group:
    """The routes one module registers, imported on first use (`Api.include`)."""

    __slots__ = ("loaded", "module", "prefixes", "routes")

    def __init__(self, module: str, prefixes: tuple[str, ...]) -> None:
        self.module = module
        self.prefixes = prefixes
        self.routes: list[Route] = []
        self.loaded = False


class _Table:
    """The routes served so far, matched as one: replaced whole when a group loads, never
    changed, so a request matches and picks its route in the same table."""

    __slots__ = ("map", "routes", "static")

    def __init__(self, routes: list[Route]) -> None:
        self.routes = tuple(routes)
        # (method, path) → route index for routes without variables: matched by one dict
        # lookup before werkzeug's router (a heartbeat's path is such a route).
        self.static: dict[tuple[str, str], int] = {}
        for index, r in enumerate(routes):
            if "<" not in r.path:
                self.static.setdefault((r.method, r.path), index)  # the first, as werkzeug
        self.map = Map(
            [Rule(r.path, methods=[r.method], endpoint=index) for index, r in enumerate(routes)],
            strict_slashes=False,
            merge_slashes=False,
        )


class Api:
    """The route table of one function; callable as its functions-framework entry point."""

    def __init__(self, name: str, *, title: str, audience: str = "public") -> None:
        self.name = name
        self.title = title
        # Whose CORS allow-list applies: "admin" (the control center) or "public" (the apps).
        self.audience = audience
        # Routes and route groups in declaration order: the table's order, and so the
        # OpenAPI document's, whichever group a request loads first.
        self._entries: list[Route | _Group] = []
        self._groups: dict[str, _Group] = {}
        self._pending: tuple[_Group, ...] = ()  # groups not loaded yet
        self._table: _Table | None = None
        self._loading = threading.Lock()

    # -- declaring routes ------------------------------------------------------------------

    def route(
        self,
        method: str,
        path: str,
        *,
        auth: Authenticator,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        summary: str = "",
        errors: Sequence[type[DomainError]] = (),
        stream: bool = False,
        also: Mapping[int, type[BaseModel] | str] | None = None,
    ) -> Callable[[Handler], Handler]:
        for cls in errors:
            if not (isinstance(cls, type) and issubclass(cls, DomainError)):
                raise TypeError(f"{method} {path}: errors= takes DomainError classes, not {cls!r}")

        def register(handler: Handler) -> Handler:
            self._add(
                Route(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    auth=auth,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
                    errors=tuple(errors),
                    stream=stream,
                    also=dict(also or {}),
                )
            )
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **options)

    def include(self, module: str, *, prefixes: Sequence[str]) -> None:
        """The routes `module` registers, imported with the first request whose path starts
        with one of `prefixes` (or when the whole table is read: `routes`), not at start.

        Every route the module registers must lie under its prefixes (checked as it
        registers), so a path the module could answer always loads it first: answers for
        paths and methods no route has (404, 405 and its Allow, a preflight's methods) come
        out as with the whole table loaded."""
        if not all(prefix.startswith("/") for prefix in prefixes):
            raise ValueError(f"{module}: path prefixes start with /")
        group = _Group(module, tuple(prefixes))
        self._groups[module] = group
        self._entries.append(group)
        self._pending = (*self._pending, group)

    def _add(self, route: Route) -> None:
        group = self._groups.get(route.handler.__module__)
        if group is None:  # registered at import, before the function serves
            self._entries.append(route)
            self._table = None
            return
        # A path matching the route starts with its text before the first variable; for a
        # route without variables, less a trailing slash (strict_slashes=False matches "/x"
        # to "/x/" too).
        literal, variable, _ = route.path.partition("<")
        if not variable:
            literal = literal.rstrip("/")
        if not literal.startswith(group.prefixes):
            raise ValueError(
                f"{route.method} {route.path} lies outside {group.module}'s prefixes "
                f"{group.prefixes}: a request for it would not load the module"
            )
        group.routes.append(route)

    @property
    def routes(self) -> tuple[Route, ...]:
        """The whole table, every group loaded (the documents and the tests read it)."""
        if self._pending:
            self._load(self._pending)
        return self._current().routes

    # -- serving ---------------------------------------------------------------------------

    def _table_for(self, path: str) -> _Table:
        """The table to match `path` in, once the groups that may have a route for it are
        loaded. (The hot path calls this only while groups are pending.)"""
        if self._pending:
            wanted = tuple(g for g in self._pending if path.startswith(g.prefixes))
            if wanted:
                self._load(wanted)
        return self._current()

    def _current(self) -> _Table:
        table = self._table
        if table is None:
            with self._loading:
                table = self._table = self._table or self._build()
        return table

    def _load(self, groups: tuple[_Group, ...]) -> None:
        with self._loading:
            for group in groups:
                if not group.loaded:
                    try:
                        importlib.import_module(group.module)
                    except BaseException:
                        group.routes.clear()  # a failed import is retried whole
                        raise
                    group.loaded = True
            # The new table is published before `_pending` shrinks: a request that finds
            # nothing pending then reads a table holding every loaded group.
            self._table = self._build()
            self._pending = tuple(g for g in self._pending if not g.loaded)

    def _build(self) -> _Table:
        routes: list[Route] = []
        for entry in self._entries:
            if isinstance(entry, Route):
                routes.append(entry)
            elif entry.loaded:
                routes.extend(entry.routes)
        return _Table(routes)

    def __call__(self, request: Request) -> Response:
        request_id = _request_id(request)
        request_id_token = request_id_var.set(request_id)
        trace_token = trace_var.set(_trace(request))
        started = time.perf_counter()
        origin = cors.allowed_origin(self.audience, request.headers.get("Origin"))
        try:
            if request.method == "OPTIONS":
                response = self._preflight(request, origin)
            else:
                response = self._dispatch(request, request_id)
        finally:
            request_id_var.reset(request_id_token)
            trace_var.reset(trace_token)
        response.headers["X-Request-Id"] = request_id
        cors.decorate(response, origin)
        if response.status_code >= 500:
            log_event(
                logger,
                40,
                "request failed",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                request_id=request_id,
            )
        return response

    def _preflight(self, request: Request, origin: str | None) -> Response:
        """Answered from the route table alone: a browser sends no credentials with it."""
        try:
            table = self._table_for(request.path)
        except Exception:
            return _group_failed(request)
        methods = table.map.bind("").allowed_methods(request.path)
        if not methods:
            return error_response(404, "not_found", "No such endpoint.", {"path": request.path})
        return cors.preflight(origin, (m for m in methods if m != "HEAD"))

    def _dispatch(self, request: Request, request_id: str) -> Response:
        try:
            # `_pending` is read before the table (see `_load`).
            table = self._table_for(request.path) if self._pending else self._current()
        except Exception:
            return _group_failed(request)
        index = table.static.get((request.method, request.path))
        params: Mapping[str, Any] = {}
        try:
            if index is None:
                adapter = table.map.bind("", url_scheme=request.scheme)
                index, params = adapter.match(request.path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here.",
                {"allowed": sorted(exc.valid_methods or [])},
                headers={"Allow": allowed},
            )
        except NotFound:
            return error_response(404, "not_found", "No such endpoint.", {"path": request.path})

        route = table.routes[index]
        try:
            caller = route.auth(request)
            body = _parse_body(request, route.body) if route.body else None
            query = _parse_query(request, route.query) if route.query else None
            guard = getattr(route.auth, "guard", None) if route.stream else None
            result = route.handler(
                Call(
                    request=request,
                    caller=caller,
                    body=body,
                    query=query,
                    params=params,
                    request_id=request_id,
                    guard=guard(caller) if guard is not None else None,
                )
            )
            return _to_response(result, route)
        except errors.DomainError as error:
            return domain_error_response(error)
        except Exception as exc:  # the boundary: nothing below may leak a stack trace
            if _is_transient(exc):
                log_event(logger, 40, "dependency unavailable", error=type(exc).__name__)
                return error_response(
                    503,
                    "unavailable",
                    "The service is briefly unavailable. Try again shortly.",
                    headers={"Retry-After": "5"},
                )
            logger.exception("unhandled error in %s %s", route.method, route.path)
            return error_response(500, "internal", "Something went wrong on our side.")


def _group_failed(request: Request) -> Response:
    # A route module that fails to import is a broken deployment, as it was when every
    # module loaded at start; answered in the contract's shape, and retried next request.
    logger.exception("route module failed to load for %s %s", request.method, request.path)
    return error_response(500, "internal", "Something went wrong on our side.")


# -- request parsing ------------------------------------------------------------------------


def _request_id(request: Request) -> str:
    incoming = request.headers.get("X-Request-Id", "")
    # 32 random hex digits, as uuid4().hex gave. A correlation id, not a secret, so not
    # os.urandom: its getrandom() syscall releases the GIL, and under load another request
    # thread takes it — a GIL hand-off on every request (`strace -c`: one getrandom per
    # request). `random` is reseeded in each forked worker.
    return incoming if _REQUEST_ID.fullmatch(incoming) else f"{random.getrandbits(128):032x}"


def _trace(request: Request) -> str | None:
    header = request.headers.get("X-Cloud-Trace-Context")
    if not header:
        return None
    from shared.config import get_config

    project = get_config().google_cloud_project
    trace_id = header.split("/", 1)[0]
    return f"projects/{project}/traces/{trace_id}" if project else trace_id


def read_body(request: Request) -> bytes:
    """The raw body, refusing more than 64 KiB whatever Content-Length claims."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge()
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise errors.PayloadTooLarge()
    return raw


def parse_json(request: Request, *, empty: Any = None) -> Any:
    """The JSON body; an absent body is `empty` when given (routes whose fields are all
    optional), else a 400."""
    raw = read_body(request)
    if not raw.strip() and empty is not None:
        return empty
    if request.mimetype != "application/json":
        raise errors.UnsupportedMediaType()
    if not raw.strip():
        raise errors.InvalidRequest("A JSON body is required.", fields=[])
    return untrusted.loads(raw)


def _parse_body(request: Request, model: type[BaseModel]) -> BaseModel:
    all_optional = not any(f.is_required() for f in model.model_fields.values())
    data = parse_json(request, empty={} if all_optional else None)
    return _validated(model, data, "Some fields are not valid.")


def _parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    untrusted.check_query(request.args.items(multi=True))
    return _validated(model, request.args.to_dict(), "Some query parameters are not valid.")


def _validated(model: type[BaseModel], data: Any, message: str) -> BaseModel:
    """Bodies and queries fail validation alike: a 400 naming the bad fields; and a parsed
    model passes the same untrusted-input checks whichever it came from."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise errors.InvalidRequest(message, fields=field_errors(exc)) from None
    untrusted.check_model(parsed)
    return parsed


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Name each bad field and what is wrong, without echoing the input back."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "body",
            "error": error["type"],
            "message": error["msg"],
        }
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


# -- responses ------------------------------------------------------------------------------


def _to_response(result: Any, route: Route) -> Response:
    if isinstance(result, Response):
        return result
    status, headers, payload = route.status, {}, result
    if isinstance(result, Reply):
        status, headers, payload = result.status, result.headers, result.payload
    if payload is None:
        return Response(status=204 if status == 200 else status, headers=headers)
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    return Response(
        json.dumps(payload, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


_TRANSIENT: tuple[type[BaseException], ...] | None = None


def _is_transient(exc: Exception) -> bool:
    """Errors that mean a store is unreachable: answered 503 with Retry-After, not 500."""
    global _TRANSIENT
    if _TRANSIENT is None:
        import redis
        import sqlalchemy.exc

        _TRANSIENT = (
            sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.TimeoutError,
            redis.ConnectionError,
            redis.TimeoutError,
            ConnectionError,
        )
    if isinstance(exc, _TRANSIENT):
        return True
    from shared import db

    return db.is_lost_connection(exc)
