"""``activity``: the Portal's change feed, one entry per change, bounded by a TTL policy.

Entry ids are derived from what the entry describes (e.g. repository + commit), so replaying
the same change rewrites its entry instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore

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
