"""``activity``: the Portal's change feed, one entry per change, bounded by a TTL policy.

Entry ids are derived from what the entry describes (e.g. repository + commit), so replaying
the same change rewrites its entry instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.logic import docids


class ActivityFeed:
    def __init__(self, client: firestore.Client, collection: str, ttl_days: int) -> None:
        self._collection = client.collection(collection)
        self._ttl = timedelta(days=ttl_days)

    def record(self, key: str, entry: Mapping[str, Any], *, at: datetime | None = None) -> str:
        """Write one entry; ``expires_at`` is what the collection's TTL policy deletes by."""
        time = at or datetime.now(UTC)
        doc_id = docids.encode(key)
        data = {**entry, "time": time, "expires_at": time + self._ttl}
        with transient_errors_as_retryable("firestore"):
            self._collection.document(doc_id).set(data)
        return doc_id

    def between(
        self, start: datetime, end: datetime, layers: frozenset[str]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, entry) of the entries of ``layers`` timed in [start, end), streamed. Filtered
        by layer here rather than in the query, which would need a composite index; the other
        layers' entries of a day are few (one per git sync)."""
        query = (
            self._collection.where(filter=FieldFilter("time", ">=", start))
            .where(filter=FieldFilter("time", "<", end))
            .order_by("time")
        )
        with transient_errors_as_retryable("firestore"):
            for snapshot in query.stream():
                entry = snapshot.to_dict() or {}
                if entry.get("layer") in layers:
                    yield snapshot.id, entry
