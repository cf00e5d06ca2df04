"""``_alerts``: per layer, whether it is stale and whether that news has gone out.

Alerts fire on transitions only (one when a layer goes stale, one when it recovers), so the
state must outlive the check that saw it; and a notification that failed must be retried by
the next check, so "changed" and "notified" are recorded separately. The transition is decided
in a transaction: two overlapping checks cannot both announce the same change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.clients import transaction_errors_as_retryable, transient_errors_as_retryable

Change = Literal["stale", "recovered"]


@dataclass(frozen=True)
class PendingAlert:
    layer: str
    change: Change
    changed_at: datetime
    detail: str


class AlertBook:
    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._client = client
        self._collection = client.collection(collection)

    def record(self, layer: str, stale: bool, now: datetime, detail: str) -> Change | None:
        """Record the layer's staleness; returns the change if this call saw it happen."""
        reference = self._collection.document(layer)

        @firestore.transactional
        def decide(transaction: firestore.Transaction) -> Change | None:
            snapshot = reference.get(transaction=transaction)
            was_stale = bool((snapshot.to_dict() or {}).get("stale")) if snapshot.exists else False
            if was_stale == stale:
                return None
            change: Change = "stale" if stale else "recovered"
            transaction.set(
                reference,
                {
                    "layer": layer,
                    "stale": stale,
                    "change": change,
                    "changed_at": now,
                    "detail": detail,
                    "notified": False,
                },
            )
            return change

        with transaction_errors_as_retryable():
            result: Change | None = decide(self._client.transaction())
        return result

    def pending(self) -> list[PendingAlert]:
        """Changes whose notification has not gone out yet (oldest first)."""
        with transient_errors_as_retryable("firestore"):
            snapshots = list(
                self._collection.where(filter=FieldFilter("notified", "==", False)).stream()
            )
        alerts = []
        for snapshot in snapshots:
            data: dict[str, Any] = snapshot.to_dict() or {}
            alerts.append(
                PendingAlert(snapshot.id, data["change"], data["changed_at"], data["detail"])
            )
        return sorted(alerts, key=lambda alert: alert.changed_at)

    def mark_notified(self, alert: PendingAlert, now: datetime) -> None:
        with transient_errors_as_retryable("firestore"):
            self._collection.document(alert.layer).update({"notified": True, "notified_at": now})
