"""``_doc_changes``: every file change git sync applied, kept (with an expiry for a TTL policy)
until the daily history export has copied it to BigQuery.

The Portal's ``activity`` entry of a sync lists at most a hundred paths, to stay readable; this
log keeps them all, in chunks of a few hundred per document (ids from repository, commit and
chunk number, so a re-run rewrites rather than duplicates).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.logic import docids
from lzsync.logic.doc_changes import FileChange

CHUNK_FILES: Final = 400
# ~60 KB a chunk: a commit stays well under Firestore's 10 MiB request and 500 writes.
_CHUNKS_PER_COMMIT: Final = 100


class DocChangeLog:
    def __init__(self, client: firestore.Client, collection: str, ttl_days: int) -> None:
        self._client = client
        self._collection = client.collection(collection)
        self._ttl = timedelta(days=ttl_days)

    def record(
        self,
        *,
        repo: str,
        commit: str,
        commit_time: datetime | None,
        changes: Sequence[FileChange],
        at: datetime | None = None,
    ) -> int:
        """Write the changes of one sync; returns the number of documents written."""
        synced_at = at or datetime.now(UTC)
        chunks = [changes[i : i + CHUNK_FILES] for i in range(0, len(changes), CHUNK_FILES)]
        batch = self._client.batch()
        for number, chunk in enumerate(chunks):
            if number and number % _CHUNKS_PER_COMMIT == 0:
                with transient_errors_as_retryable("firestore"):
                    batch.commit()
                batch = self._client.batch()
            batch.set(
                self._collection.document(docids.encode(f"git:{repo}:{commit}:{number}")),
                {
                    "repo": repo,
                    "commit": commit,
                    "commit_time": commit_time,
                    "synced_at": synced_at,
                    "chunk": number,
                    "files": [change.as_record() for change in chunk],
                    "expires_at": synced_at + self._ttl,
                },
            )
        if chunks:
            with transient_errors_as_retryable("firestore"):
                batch.commit()
        return len(chunks)

    def synced_between(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """One record per changed file synced in [start, end), streamed."""
        query = (
            self._collection.where(filter=FieldFilter("synced_at", ">=", start))
            .where(filter=FieldFilter("synced_at", "<", end))
            .order_by("synced_at")
        )
        with transient_errors_as_retryable("firestore"):
            for snapshot in query.stream():
                entry = snapshot.to_dict() or {}
                for change in entry.get("files") or []:
                    yield {
                        "change_id": f"{entry['repo']}:{entry['commit']}:{change['path']}",
                        "repo": entry["repo"],
                        "commit": entry["commit"],
                        "commit_time": entry.get("commit_time"),
                        "synced_at": entry["synced_at"],
                        **change,
                    }
