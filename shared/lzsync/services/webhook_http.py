"""The HTTP shape of the webhook: method and size limits, then :class:`WebhookService`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import flask
from pydantic import ValidationError
from pydantic_settings import SettingsError

from lzsync.adapters.clients import firestore_client, project_id, publisher_client
from lzsync.adapters.deliveries import DeliveryLedger
from lzsync.adapters.publisher import JsonPublisher
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.errors import ConfigError
from lzsync.logs import bound, configure, register_secret, trace_field
from lzsync.services.webhook import WebhookResponse, WebhookService
from lzsync.settings import load_settings

_TRACE_HEADER: Final = "X-Cloud-Trace-Context"
_log = logging.getLogger("lzsync.webhook")


@dataclass(frozen=True)
class _Wiring:
    project: str
    max_body_bytes: int
    service: WebhookService


@lru_cache(maxsize=1)
def _service() -> _Wiring:
    settings = load_settings()
    configure(settings.log_level)
    if settings.webhook_secret:
        register_secret(settings.webhook_secret.get_secret_value())
    project = project_id(settings)
    names = Collections(settings.collection_prefix)
    client = firestore_client(project)
    service = WebhookService(
        settings,
        DeliveryLedger(client, names.deliveries, settings.delivery_ttl_seconds),
        JsonPublisher(
            publisher_client(), project, settings.sync_topic, settings.publish_timeout_seconds
        ),
        StatusBoard(client, names.sync_status),
    )
    return _Wiring(project, settings.webhook_max_body_bytes, service)


def _as_flask(response: WebhookResponse) -> flask.Response:
    reply = flask.jsonify(response.body)
    reply.status_code = response.status
    reply.headers.update(response.headers)
    return reply


def handle(request: flask.Request) -> flask.Response:
    """Answer one HTTP request to the webhook endpoint."""
    try:
        wiring = _service()
    except (ConfigError, ValidationError, SettingsError) as error:
        # Fail closed with a clear answer instead of a stack trace; the log names the setting.
        configure()
        _log.error("webhook misconfigured; refusing deliveries", extra={"error": str(error)})
        return _as_flask(
            WebhookResponse(503, {"status": "refused", "error": "webhook misconfigured"})
        )
    trace = trace_field(wiring.project, request.headers.get(_TRACE_HEADER))
    with bound(function="webhook", **trace):
        if request.method != "POST":
            return _as_flask(
                WebhookResponse(405, {"status": "refused", "error": "only POST"}, {"Allow": "POST"})
            )
        cap = wiring.max_body_bytes
        if request.content_length is not None and request.content_length > cap:
            return _as_flask(WebhookResponse(413, {"status": "refused", "error": "body too large"}))
        # The declared length can be absent (chunked) or wrong: never read more than the cap.
        body = request.stream.read(cap + 1)
        if len(body) > cap:
            return _as_flask(WebhookResponse(413, {"status": "refused", "error": "body too large"}))
        headers = dict(request.headers.items())
        return _as_flask(wiring.service.handle(headers, request.content_type or "", body))
