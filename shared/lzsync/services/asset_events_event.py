"""The Pub/Sub shape of the real-time layer: a messagePublished CloudEvent in, ack or retry out."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from lzsync import metrics
from lzsync.adapters.clients import firestore_client, project_id
from lzsync.adapters.constraint_store import shared_constraint_store
from lzsync.adapters.dead_letters import DeadLetterBox
from lzsync.adapters.event_store import EventStore
from lzsync.adapters.group_commit import GroupCommitter
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.errors import InvalidPayload
from lzsync.logic.event_stats import EventStats
from lzsync.logs import configure
from lzsync.model.pubsub import PubsubMessage
from lzsync.services.asset_events import AssetEventsService, EventOutcome
from lzsync.settings import load_settings

_log = logging.getLogger("lzsync.events")


@lru_cache(maxsize=1)
def _service() -> tuple[AssetEventsService, DeadLetterBox]:
    settings = load_settings()
    configure(settings.log_level)
    client = firestore_client(project_id(settings))
    names = Collections(settings.collection_prefix)
    dead_letters = DeadLetterBox(client, names.dead_letters)
    store = EventStore(
        client, names, settings.events_tombstone_ttl_seconds, settings.activity_ttl_days
    )
    service = AssetEventsService(
        GroupCommitter(store, settings.events_batch_max),
        dead_letters,
        StatusBoard(client, names.sync_status),
        EventStats(settings.events_status_flush_seconds, settings.events_lag_window_seconds),
        settings.events_expected_interval_seconds,
        shared_constraint_store(client, names).current,
        store.stored_policy,
    )
    return service, dead_letters


def handle_event(event_id: str, event_data: Any) -> EventOutcome:
    service, dead_letters = _service()
    try:
        message = PubsubMessage.from_event_data(event_data)
        metrics.count_delivered(message.data, message.attributes)
    except InvalidPayload as error:
        dead_letters.record(
            layer="events",
            message_id=event_id,
            data=repr(event_data).encode(),
            attributes={},
            reason=str(error),
            error_type=type(error).__name__,
        )
        _log.error("event without a Pub/Sub message dead-lettered", extra={"error": str(error)})
        return EventOutcome("dead_lettered", str(error))
    return service.handle(message)
