"""Layer 4: apply Cloud Asset Inventory feed changes to ``resources`` as they happen.

One message, one outcome: ``applied`` (the Portal changed), ``ignored`` (welcome message,
stale or duplicate event: nothing to do), ``dead_lettered`` (a message that can never be
applied: recorded in ``_dead_letters`` and acknowledged). Retryable failures (Firestore
unavailable, persistent contention) raise, so Pub/Sub redelivers with backoff until the
subscription's dead-letter policy takes the message; duplicates are harmless because an event
applies only if it is newer than what Firestore holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from lzsync.adapters.constraint_store import ConstraintSet
from lzsync.adapters.dead_letters import DeadLetterBox
from lzsync.adapters.event_store import AppliedChange
from lzsync.adapters.status import StatusBoard
from lzsync.errors import PermanentError, RetryableError
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.event_stats import EventStats
from lzsync.logs import audit, bound
from lzsync.model.feed import FeedChange, WelcomeMessage, parse_feed_message
from lzsync.model.pubsub import PubsubMessage

_log = logging.getLogger("lzsync.events")


class ChangeApplier(Protocol):
    """Applies one change to Firestore: :class:`~lzsync.adapters.event_store.EventStore`, or
    :class:`~lzsync.adapters.group_commit.GroupCommitter` sharing transactions among requests."""

    def apply(self, change: FeedChange, document: dict[str, Any] | None) -> AppliedChange: ...


@dataclass(frozen=True)
class EventOutcome:
    outcome: str  # applied | ignored | dead_lettered
    detail: str
    applied: AppliedChange | None = None


class AssetEventsService:
    def __init__(
        self,
        store: ChangeApplier,
        dead_letters: DeadLetterBox,
        status: StatusBoard,
        stats: EventStats,
        expected_interval_seconds: int,
        constraints: Callable[[], ConstraintSet] = ConstraintSet,
    ) -> None:
        self._constraints = constraints
        self._store = store
        self._dead_letters = dead_letters
        self._status = status
        self._stats = stats
        self._expected_interval_seconds = expected_interval_seconds

    def handle(self, message: PubsubMessage) -> EventOutcome:
        with bound(function="asset_events", message_id=message.message_id):
            outcome = self._handle(message)
            self._flush_status()
            return outcome

    def _handle(self, message: PubsubMessage) -> EventOutcome:
        try:
            change = parse_feed_message(message.data)
            document = (
                None
                if change.deleted
                else resource_document(
                    change.asset,
                    source="event",
                    violations=self._constraints().judge(change.asset),
                )
            )
        except WelcomeMessage:
            _log.info("feed welcome message acknowledged")
            self._stats.record("ignored", None, None)
            return EventOutcome("ignored", "welcome message")
        except PermanentError as error:
            self._dead_letters.record(
                layer="events",
                message_id=message.message_id,
                data=message.data,
                attributes=message.attributes,
                reason=str(error),
                error_type=type(error).__name__,
            )
            _log.error("feed message dead-lettered", extra={"error": str(error)})
            self._stats.record("dead_lettered", None, None)
            return EventOutcome("dead_lettered", str(error))
        with bound(asset=change.asset_name, event_time=change.start_time_text):
            applied = self._store.apply(change, document)  # RetryableError propagates
            lag = (datetime.now(UTC) - change.start_time).total_seconds()
            if applied.kind is None:
                self._stats.record("ignored", change.start_time, lag)
                return EventOutcome("ignored", applied.decision, applied)
            self._stats.record("applied", change.start_time, lag)
            audit(
                "asset_event",
                outcome=applied.kind,
                asset=change.asset_name,
                lag_seconds=round(lag, 3),
            )
            return EventOutcome("applied", applied.kind, applied)

    def _flush_status(self) -> None:
        update = self._stats.due()
        if update is None:
            return
        fields = {
            "state": "ok",
            "last_attempt": datetime.now(UTC),
            "expected_interval_seconds": self._expected_interval_seconds,
            **update["fields"],
        }
        try:
            self._status.update("events", fields, increments=update["increments"])
        except RetryableError as error:
            _log.warning("sync_status/events not updated", extra={"error": str(error)})
