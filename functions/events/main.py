"""Entry point of the events function (Cloud Run functions, functions-framework in ASGI
mode: an `aio.http` entry point makes functions-framework serve it with uvicorn)."""

from shared.startup import cold_start

# Everything this process loads at start, without cyclic GC passes over it (shared.startup).
with cold_start():
    import functions_framework.aio
    from starlette.requests import Request
    from starlette.responses import Response

    from functions.events.routes import api
    from shared import log
    from shared.config import get_config
    from shared.web import asgi

    log.configure(get_config().log_level)


@functions_framework.aio.http
async def events(request: Request) -> Response:
    return await asgi.serve(api, request)
