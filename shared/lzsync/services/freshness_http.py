"""The HTTP shape of the freshness check: Cloud Scheduler calls it every 15 minutes.

200 with every watched layer's freshness (stale layers included: the check worked; the alert
is the log line and the chat message); 503 when Firestore is unreachable, 500 when
misconfigured. The answer doubles as a quick probe for an operator with ``curl``.
"""

from __future__ import annotations

import logging

import flask
from google.cloud import firestore

from lzsync.adapters.alert_book import AlertBook
from lzsync.adapters.chat_notifier import ChatNotifier
from lzsync.adapters.clients import firestore_client, project_id
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.logic.freshness import stale_thresholds
from lzsync.logs import bound, register_secret
from lzsync.services.freshness_check import CheckOutcome, FreshnessCheck
from lzsync.services.scheduled_http import failure_reply, function_settings, json_reply
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.freshness")


def freshness_check(settings: Settings, client: firestore.Client) -> FreshnessCheck:
    names = Collections(settings.collection_prefix)
    notifier = None
    if settings.alert_webhook_url is not None:
        url = settings.alert_webhook_url.get_secret_value()
        register_secret(url)
        notifier = ChatNotifier(url).send
    return FreshnessCheck(
        StatusBoard(client, names.sync_status),
        AlertBook(client, names.alerts),
        settings.freshness_layers,
        stale_thresholds(settings.freshness_stale_after_seconds),
        notifier,
    )


def run_check(settings: Settings) -> CheckOutcome:
    return freshness_check(settings, firestore_client(project_id(settings))).run()


def handle(request: flask.Request) -> flask.Response:
    with bound(function="freshness_check"):
        try:
            outcome = run_check(function_settings())
        except Exception as error:
            return failure_reply(error, "freshness check", _log)
        return json_reply(
            200,
            {
                "status": "checked",
                "layers": {
                    item.layer: {
                        "state": item.state,
                        "age_seconds": None
                        if item.age_seconds is None
                        else round(item.age_seconds),
                        "stale_after_seconds": item.stale_after_seconds,
                    }
                    for item in outcome.layers
                },
                "changes": outcome.changes,
                "notified": outcome.notified,
                "notify_failed": outcome.notify_failed,
            },
        )
