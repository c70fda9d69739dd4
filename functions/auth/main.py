"""Entry point of the auth function (Cloud Run functions, functions-framework).

Module level runs once per cold start: logging and the route table. Clients (database,
Valkey, Firebase) are created lazily on first use.
"""

from shared.startup import cold_start

# Everything this process loads at start, without cyclic GC passes over it (shared.startup).
with cold_start():
    import functions_framework
    from flask import Request, Response

    from functions.auth.routes import api
    from shared import log
    from shared.config import get_config
    from shared.web import asyncapi
    from shared.web.errors import answer_framework_errors
    from shared.web.openapi import serve_public_documents

    log.configure(get_config().log_level)
    answer_framework_errors()
    serve_public_documents(api)
    asyncapi.serve(api, ("client", "mitra"))


@functions_framework.http
def auth(request: Request) -> Response:
    return api(request)
