"""Entry point of the payments function (Cloud Run functions, functions-framework)."""

from shared.startup import cold_start

# Everything this process loads at start, without cyclic GC passes over it (shared.startup).
with cold_start():
    import functions_framework
    from flask import Request, Response

    from functions.payments.routes import api
    from shared import log
    from shared.config import get_config
    from shared.web.errors import answer_framework_errors

    log.configure(get_config().log_level)
    answer_framework_errors()


@functions_framework.http
def payments(request: Request) -> Response:
    return api(request)
