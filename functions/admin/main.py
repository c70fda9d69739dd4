"""Entry point of the admin function: VPC-internal ingress only, never on the public load
balancer (functions/catalogue.yaml)."""

from shared.startup import cold_start

# Everything this process loads at start, without cyclic GC passes over it (shared.startup).
with cold_start():
    import functions_framework
    from flask import Request, Response

    from functions.admin.routes import api
    from shared import log
    from shared.config import get_config
    from shared.web import asyncapi
    from shared.web.errors import answer_framework_errors
    from shared.web.openapi import serve_own_document

    log.configure(get_config().log_level)
    answer_framework_errors()
    serve_own_document(api, "/api/admin/", "Halo Bestie control center API")
    asyncapi.serve(api, ("admin",))


@functions_framework.http
def admin(request: Request) -> Response:
    return api(request)
