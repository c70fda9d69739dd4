"""Entry point of the notifier function (Cloud Run functions, functions-framework).

`notify` receives every domain event (Pub/Sub topic EVENTS_TOPIC → push subscription → CloudEvent)
and pushes what phones need through FCM HTTP v1 (shared.domain.notifier, shared.fcm).
Returning acknowledges the message; raising makes Pub/Sub redeliver it, up to the
catalogue's `dead_letter_after` attempts.
"""

from shared.startup import cold_start

# Everything this process loads at start, without cyclic GC passes over it (shared.startup).
with cold_start():
    import functions_framework
    from cloudevents.http import CloudEvent

    from functions.notifier.delivery import on_message
    from shared import log
    from shared.config import get_config
    from shared.web.errors import answer_framework_errors, refuse_deep_cloud_events

    log.configure(get_config().log_level)
    answer_framework_errors()
    refuse_deep_cloud_events()


@functions_framework.cloud_event
def notify(event: CloudEvent) -> None:
    on_message(event)
