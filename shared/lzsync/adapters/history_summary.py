"""``history/summary``: the trend numbers the Portal charts, one small document it listens to
instead of querying BigQuery."""

from __future__ import annotations

from typing import Any, Final

from google.cloud import firestore

from lzsync.adapters.clients import transient_errors_as_retryable

SUMMARY_DOCUMENT: Final = "summary"


class HistorySummaryStore:
    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._document = client.collection(collection).document(SUMMARY_DOCUMENT)

    def write(self, summary: dict[str, Any]) -> None:
        with transient_errors_as_retryable("firestore"):
            self._document.set(summary)

    def read(self) -> dict[str, Any] | None:
        with transient_errors_as_retryable("firestore"):
            snapshot = self._document.get()
        return snapshot.to_dict() if snapshot.exists else None
