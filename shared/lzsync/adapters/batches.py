"""Batched Firestore writes within the API's per-request limits.

Firestore takes at most 500 writes per batch and a request of at most 10 MiB ("Usage and
limits"); the emulator enforces neither, so the limits are enforced here. Every committed write
is tallied in the run's :class:`~lzsync.metrics.OperationCounts` (what its outcome reports); the
billing counters of :mod:`lzsync.metrics` count the same commits at the wire.
"""

from __future__ import annotations

from typing import Any, Final

from google.cloud import firestore

from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.metrics import OperationCounts

__all__ = ["MAX_BATCH_BYTES", "MAX_BATCH_WRITES", "Batcher", "OperationCounts"]

MAX_BATCH_WRITES: Final = 500
MAX_BATCH_BYTES: Final = 8 * 1024 * 1024


class Batcher:
    """Collects writes and commits them in batches; call :meth:`flush` at the end."""

    def __init__(self, client: firestore.Client, counts: OperationCounts | None = None) -> None:
        self._client = client
        self._counts = counts or OperationCounts()
        self._batch = client.batch()
        self._size = 0
        self._bytes = 0

    def _make_room(self, approx_bytes: int) -> None:
        full = self._size >= MAX_BATCH_WRITES or self._bytes + approx_bytes > MAX_BATCH_BYTES
        if self._size and full:
            self.flush()

    def set(
        self, ref: firestore.DocumentReference, data: dict[str, Any], approx_bytes: int = 1024
    ) -> None:
        self._make_room(approx_bytes)
        self._batch.set(ref, data)
        self._size += 1
        self._bytes += approx_bytes

    def delete(self, ref: firestore.DocumentReference) -> None:
        self._make_room(0)
        self._batch.delete(ref)
        self._size += 1

    def flush(self) -> None:
        if not self._size:
            return
        with transient_errors_as_retryable("firestore"):
            self._batch.commit()
        self._counts.writes += self._size
        self._batch = self._client.batch()
        self._size = 0
        self._bytes = 0
