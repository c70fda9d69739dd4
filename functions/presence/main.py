"""Entry points of the presence function (Cloud Run functions, functions-framework).

`presence` serves the mitra's HTTP routes; `sweep_presence` is the sweeper's CloudEvent
entry point (Scheduler → Pub/Sub → push subscription), deployed from the same source.
"""

from shared.startup import cold_start

# Everything this process loads at start, without cyclic GC passes over it (shared.startup).
with cold_start():
    import functions_framework
    from cloudevents.http import CloudEvent
    from flask import Request, Response

    from functions.presence.routes import api
    from shared import log
    from shared.config import get_config
    from shared.web.errors import answer_framework_errors, refuse_deep_cloud_events

    log.configure(get_config().log_level)
    answer_framework_errors()
    refuse_deep_cloud_events()


@functions_framework.http
def presence(request: Request) -> Response:
    return api(request)


@functions_framework.cloud_event
def sweep_presence(event: CloudEvent) -> None:
    # Imported here: the sweeper's steps reach most of shared/, and the HTTP instances
    # (heartbeats) deployed from this source never run it.
    from functions.presence.sweep import on_tick

    on_tick(event)
