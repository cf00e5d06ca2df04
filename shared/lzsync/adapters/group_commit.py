"""Group commit: concurrent requests of one instance share Firestore transactions.

Pub/Sub pushes many messages to one function instance at once (its request concurrency). Each
request used to pay a full transaction (begin, read, commit: three round trips) on its own, so
an instance topped out at a few hundred changes per second however fast Firestore was. Here a
request hands its change to a committer thread and waits: while one batch commits, the next
one gathers whatever arrived meanwhile, so batches grow with load and stay at one change when
traffic is light (no added waiting). Every request still returns only after its own change is
committed, so acknowledging the message stays safe.

A batch that fails with a retryable error fails each of its requests (Pub/Sub redelivers them);
one that fails otherwise is re-run change by change, so one document Firestore refuses fails
only its own request.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from lzsync.adapters.event_store import AppliedChange
from lzsync.errors import RetryableError
from lzsync.model.feed import FeedChange

_log = logging.getLogger("lzsync.events")

Item = tuple[FeedChange, dict[str, Any] | None]


class BatchStore(Protocol):
    def apply_batch(self, items: Sequence[Item]) -> list[AppliedChange]: ...


@dataclass
class _Pending:
    item: Item
    result: Future[AppliedChange] = field(default_factory=Future)


class GroupCommitter:
    """``apply(change, document)`` with the :class:`EventStore` contract, batched underneath."""

    def __init__(self, store: BatchStore, max_batch: int) -> None:
        self._store = store
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._started = False
        self._start_lock = threading.Lock()

    def apply(self, change: FeedChange, document: dict[str, Any] | None) -> AppliedChange:
        pending = _Pending((change, document))
        self._ensure_worker()
        self._queue.put(pending)
        return pending.result.result()

    def _ensure_worker(self) -> None:
        if self._started:
            return
        with self._start_lock:
            if not self._started:
                threading.Thread(target=self._work, name="group-commit", daemon=True).start()
                self._started = True

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            results = self._store.apply_batch([pending.item for pending in batch])
        except Exception as error:  # handed to the waiting requests, never lost in this thread
            if len(batch) > 1 and not isinstance(error, RetryableError):
                _log.warning(
                    "batch failed; applying its changes one by one",
                    extra={"batch_size": len(batch), "error": str(error)},
                )
                for pending in batch:
                    self._commit([pending])
                return
            for pending in batch:
                pending.result.set_exception(error)
            return
        for pending, result in zip(batch, results, strict=True):
            pending.result.set_result(result)
