"""Reading and re-publishing dead letters: ``_dead_letters`` records and dead-letter topics."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.clients import transient_errors_as_retryable


@dataclass(frozen=True)
class DeadLetter:
    doc_id: str
    layer: str
    message_id: str
    reason: str
    error_type: str
    recorded_at: datetime | None
    replayed: bool
    data: bytes
    attributes: dict[str, str]


def _letter(snapshot: Any) -> DeadLetter:
    data = snapshot.to_dict() or {}
    return DeadLetter(
        doc_id=snapshot.id,
        layer=data.get("layer", "?"),
        message_id=data.get("message_id", "?"),
        reason=data.get("reason", ""),
        error_type=data.get("error_type", ""),
        recorded_at=data.get("recorded_at"),
        replayed=bool(data.get("replayed")),
        data=base64.b64decode(data.get("data_base64", "")),
        attributes=dict(data.get("attributes") or {}),
    )


class DeadLetterArchive:
    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._collection = client.collection(collection)

    def letters(
        self, layer: str | None = None, include_replayed: bool = False
    ) -> Iterator[DeadLetter]:
        query: Any = self._collection
        if layer:
            query = query.where(filter=FieldFilter("layer", "==", layer))
        with transient_errors_as_retryable("firestore"):
            snapshots = list(query.stream())
        for snapshot in snapshots:
            letter = _letter(snapshot)
            if include_replayed or not letter.replayed:
                yield letter

    def get(self, doc_id: str) -> DeadLetter | None:
        with transient_errors_as_retryable("firestore"):
            snapshot = self._collection.document(doc_id).get()
        return _letter(snapshot) if snapshot.exists else None

    def mark_replayed(self, doc_id: str, topic: str, message_id: str) -> None:
        with transient_errors_as_retryable("firestore"):
            self._collection.document(doc_id).update(
                {
                    "replayed": True,
                    "replayed_at": datetime.now(UTC),
                    "replayed_to": topic,
                    "replay_message_id": message_id,
                }
            )


def publish_raw(
    publisher: pubsub_v1.PublisherClient, topic_path: str, data: bytes, attributes: dict[str, str]
) -> str:
    """Publish bytes as they were first delivered (no re-encoding) and wait for the id."""
    clean = {k: v for k, v in attributes.items() if not k.startswith("CloudPubSubDeadLetter")}
    with transient_errors_as_retryable("pubsub"):
        return str(publisher.publish(topic_path, data, **clean).result(timeout=30))


def drain_subscription(
    subscriber: pubsub_v1.SubscriberClient, subscription_path: str, batch: int = 100
) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """Messages waiting on a (dead-letter) pull subscription, as (ack id, data, attributes).
    The caller acknowledges each once it has been re-published."""
    while True:
        with transient_errors_as_retryable("pubsub"):
            response = subscriber.pull(
                request={
                    "subscription": subscription_path,
                    "max_messages": batch,
                    # Draining wants what is waiting now, not a long poll for more.
                    "return_immediately": True,
                },
                timeout=30,
            )
        if not response.received_messages:
            return
        for received in response.received_messages:
            message = received.message
            yield received.ack_id, bytes(message.data), dict(message.attributes)
