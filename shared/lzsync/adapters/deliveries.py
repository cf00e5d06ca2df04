"""Webhook delivery dedupe: each GitHub delivery is published once, however often it arrives.

GitHub reuses ``X-GitHub-Delivery`` for redeliveries of one event, and the id is unique per
event, not per hook, so the record is keyed on hook id *and* delivery id. Records carry
``expires_at`` for a Firestore TTL policy (GitHub lets a delivery be redelivered for 3 days).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.api_core import exceptions as google_errors
from google.cloud import firestore

from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.logic import docids


class DeliveryLedger:
    def __init__(self, client: firestore.Client, collection: str, ttl_seconds: int) -> None:
        self._collection = client.collection(collection)
        self._ttl = timedelta(seconds=ttl_seconds)

    @staticmethod
    def key(hook_id: str | None, delivery_id: str) -> str:
        return docids.encode(f"{hook_id or 'nohook'}:{delivery_id}")

    def claim(self, key: str, *, repo: str, event: str) -> bool:
        """Record the delivery; False when it was already recorded (a redelivery)."""
        now = datetime.now(UTC)
        record = {"repo": repo, "event": event, "received_at": now, "expires_at": now + self._ttl}
        with transient_errors_as_retryable("firestore"):
            try:
                self._collection.document(key).create(record)
            except google_errors.AlreadyExists:
                return False
        return True

    def mark_published(self, key: str, message_id: str) -> None:
        with transient_errors_as_retryable("firestore"):
            self._collection.document(key).update({"message_id": message_id})

    def release(self, key: str) -> None:
        """Forget a claim whose publish failed, so GitHub's redelivery is not a 'duplicate'."""
        with transient_errors_as_retryable("firestore"):
            self._collection.document(key).delete()
