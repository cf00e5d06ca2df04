"""Layer 4: apply Cloud Asset Inventory feed changes to ``resources`` as they happen.

One message, one outcome: ``applied`` (the Portal changed), ``ignored`` (welcome message,
stale or duplicate event: nothing to do), ``dead_lettered`` (a message that can never be
applied: recorded in ``_dead_letters`` and acknowledged). Retryable failures (Firestore
unavailable, persistent contention) raise, so Pub/Sub redelivers with backoff until the
subscription's dead-letter policy takes the message; duplicates are harmless because an event
applies only if it is newer than what Firestore holds.

IAM policies: the feed publishes content type RESOURCE, whose messages carry no ``iamPolicy``.
While a loaded constraint reads IAM policies, a change is judged with the policy its stored
document was judged with (see :meth:`AssetEventsService._with_stored_policy`), so an event
never drops an IAM violation the snapshot found. A message that carries an ``iamPolicy`` with
its ``resource`` is judged with it and stores it; an IAM-only message (an IAM_POLICY feed: a
policy and no ``resource``) is dead-lettered, because applying it as a resource would blank
the document's data and nothing here can re-judge a stored document (it keeps only a summary
of the resource).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from lzsync.adapters.constraint_store import ConstraintSet
from lzsync.adapters.dead_letters import DeadLetterBox
from lzsync.adapters.event_store import AppliedChange
from lzsync.adapters.status import StatusBoard
from lzsync.errors import InvalidPayload, PermanentError, RetryableError
from lzsync.logic.asset_normalize import asset_policy, resource_document
from lzsync.logic.event_stats import EventStats
from lzsync.logs import audit, bound
from lzsync.model.feed import FeedChange, WelcomeMessage, parse_feed_message
from lzsync.model.pubsub import PubsubMessage

_log = logging.getLogger("lzsync.events")


StoredPolicy = Callable[[str], list[dict[str, Any]] | None]


def _no_stored_policy(asset_name: str) -> None:
    return None


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
        stored_policy: StoredPolicy = _no_stored_policy,
    ) -> None:
        self._constraints = constraints
        # The stored document's ``iam_policy`` (EventStore.stored_policy): one read per change
        # while a constraint reads IAM policies.
        self._stored_policy = stored_policy
        self._store = store
        self._dead_letters = dead_letters
        self._status = status
        self._stats = stats
        self._expected_interval_seconds = expected_interval_seconds

    def handle(self, message: PubsubMessage) -> EventOutcome:
        with bound(function="asset_events", message_id=message.message_id):
            try:
                outcome = self._handle(message)
            except RetryableError as error:
                # Pub/Sub redelivers; the status shows the failure while it lasts (when
                # Firestore itself is down it cannot: the log line and the counts carried to
                # the next flush that lands are what remains).
                _log.error(
                    "feed message not applied; redelivery expected", extra={"error": str(error)}
                )
                self._stats.record_failure(str(error), datetime.now(UTC))
                self._flush_status()
                raise
            self._flush_status()
            return outcome

    def _handle(self, message: PubsubMessage) -> EventOutcome:
        try:
            change = parse_feed_message(message.data)
            document = None if change.deleted else self._document(change)
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

    def _document(self, change: FeedChange) -> dict[str, Any]:
        """The new ``resources`` document of a change that is not a deletion, judged by the
        current constraints (with the stored IAM policy when the message has none)."""
        asset = change.asset
        if "resource" not in asset and ("iamPolicy" in asset or "iam_policy" in asset):
            raise InvalidPayload(
                "IAM policy feed messages (an iamPolicy without a resource) are not supported "
                "yet: the feed must publish content type RESOURCE; the snapshot lists policies",
                field="asset.resource",
            )
        constraints = self._constraints()
        if constraints.needs_iam and asset_policy(asset) is None:
            asset = self._with_stored_policy(change.asset_name, asset)
        return resource_document(asset, source="event", violations=constraints.judge(asset))

    def _with_stored_policy(self, name: str, asset: Mapping[str, Any]) -> Mapping[str, Any]:
        """``asset`` with the IAM policy its stored document was judged with.

        Why: a RESOURCE feed message never carries the policy, so judging it as it comes would
        clear every IAM violation the snapshot found (and write a document without
        ``iam_policy``) on each change of the resource, until the next snapshot put them back.
        The policy is as fresh as the last snapshot (≤ 5 minutes); policy changes themselves
        reach the Portal only through the snapshot.

        Cost: one Firestore document read per non-deleted change, outside the group commit's
        transaction, and only while a loaded constraint reads IAM policies. (The transaction
        reads the same document again; judging inside it would save the read but put the
        compliance engine into the commit path.) A policy the snapshot rewrites between this
        read and the commit is not seen by this change; the next snapshot corrects it."""
        stored = self._stored_policy(name)  # RetryableError propagates: Pub/Sub redelivers
        if stored is None:
            return asset
        return {**asset, "iamPolicy": {"bindings": stored}}

    def _flush_status(self) -> None:
        update = self._stats.due()
        if update is None:
            return
        fields = {
            "last_attempt": datetime.now(UTC),
            "expected_interval_seconds": self._expected_interval_seconds,
            **update["fields"],
        }
        try:
            self._status.update("events", fields, increments=update["increments"])
        except RetryableError as error:
            self._stats.restore(update)
            _log.warning("sync_status/events not updated", extra={"error": str(error)})
