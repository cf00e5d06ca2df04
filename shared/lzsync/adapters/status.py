"""``sync_status/{layer}``: the one place the Portal learns how fresh each layer is.

Every layer's document answers the same questions in the same fields (README, "sync_status"):
``state`` (ok, degraded, failing, stale), ``last_attempt``, ``last_success``, what was synced,
``counts``, ``duration_seconds``, ``last_error``, ``circuit`` and ``expected_interval_seconds``.
Writes merge, so each layer only sends what it knows and counters use server-side increments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from google.cloud import firestore

from lzsync.adapters.clients import transient_errors_as_retryable

Layer = Literal["webhook", "git", "assets", "events", "history"]
State = Literal["ok", "degraded", "failing", "stale"]


class StatusBoard:
    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._collection = client.collection(collection)

    def update(
        self,
        layer: Layer,
        fields: Mapping[str, Any],
        *,
        increments: Mapping[str, int] | None = None,
    ) -> None:
        """Merge ``fields`` into the layer's document and add ``increments`` to its counters."""
        data: dict[str, Any] = {"layer": layer, "updated_at": firestore.SERVER_TIMESTAMP}
        data.update(fields)
        for name, amount in (increments or {}).items():
            data.setdefault("counters", {})[name] = firestore.Increment(amount)
        with transient_errors_as_retryable("firestore"):
            self._collection.document(layer).set(data, merge=True)

    def read(self, layer: Layer) -> dict[str, Any] | None:
        with transient_errors_as_retryable("firestore"):
            snapshot = self._collection.document(layer).get()
        return snapshot.to_dict() if snapshot.exists else None
