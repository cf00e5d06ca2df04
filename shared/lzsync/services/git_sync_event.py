"""The Pub/Sub shape of git sync: a messagePublished CloudEvent in, an ack or a retry out.

Returning normally acknowledges the message. A retryable error is raised, so the platform
answers 5xx and Pub/Sub redelivers with the subscription's backoff until its dead-letter policy
moves the message to the dead-letter topic. A permanent error (a message that can never be
processed) is recorded in ``_dead_letters`` and acknowledged, so it does not retry forever.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from lzsync import metrics
from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.clients import firestore_client, project_id
from lzsync.adapters.dead_letters import DeadLetterBox
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.errors import InvalidPayload, PermanentError
from lzsync.logs import bound, configure, register_secret
from lzsync.model.pubsub import PubsubMessage
from lzsync.model.sync_request import SyncRequest
from lzsync.services.git_sync import GitSyncService, RepoSyncOutcome
from lzsync.settings import load_settings

_log = logging.getLogger("lzsync.git")


@lru_cache(maxsize=1)
def _wiring() -> tuple[GitSyncService, DeadLetterBox]:
    settings = load_settings()
    configure(settings.log_level)
    if settings.git_token:
        register_secret(settings.git_token.get_secret_value())
    client = firestore_client(project_id(settings))
    names = Collections(settings.collection_prefix)
    service = GitSyncService(
        settings,
        client,
        StatusBoard(client, names.sync_status),
        ActivityFeed(client, names.activity, settings.activity_ttl_days),
    )
    return service, DeadLetterBox(client, names.dead_letters)


def parse_request(message: PubsubMessage) -> SyncRequest:
    try:
        return SyncRequest.model_validate_json(message.data)
    except ValidationError as error:
        raise InvalidPayload(f"not a sync request: {error.errors()[0]['msg']}") from error


def handle_event(event_id: str, event_data: Any) -> list[RepoSyncOutcome]:
    """Process one delivery; see the module docstring for what is acked and what retried."""
    service, dead_letters = _wiring()
    with bound(function="git_sync", event_id=event_id):
        message: PubsubMessage | None = None
        try:
            message = PubsubMessage.from_event_data(event_data)
            metrics.count_delivered(message.data, message.attributes)
            with bound(message_id=message.message_id):
                return service.handle(parse_request(message))
        except PermanentError as error:
            dead_letters.record(
                layer="git",
                message_id=message.message_id if message else event_id,
                data=message.data if message else repr(event_data).encode(),
                attributes=message.attributes if message else {},
                reason=str(error),
                error_type=type(error).__name__,
            )
            _log.error(
                "message dead-lettered",
                extra={"error": str(error), "error_type": type(error).__name__},
            )
            return []
