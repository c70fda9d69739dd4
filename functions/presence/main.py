"""Entry point of the presence function (Cloud Run functions, functions-framework)."""

import functions_framework
from flask import Request, Response

from functions.presence.routes import api
from shared import log
from shared.config import get_config

log.configure(get_config().log_level)


@functions_framework.http
def presence(request: Request) -> Response:
    return api(request)


@functions_framework.cloud_event
def sweep_presence(event: object) -> None:
    """Placeholder until the presence issue lands the sweeper."""
