"""Leases in ``_locks``: at most one run at a time per repository or snapshot scope.

A lease expires on its own (``expires_at``) so a crashed run cannot block the next one for
longer than the function's timeout. Taking and dropping are transactions, so two runs racing for
the same lease cannot both win.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.cloud import firestore

from lzsync.adapters.clients import transaction_errors_as_retryable
from lzsync.logic import docids


class Lease:
    def __init__(self, client: firestore.Client, collection: str, key: str) -> None:
        self._client = client
        self._ref = client.collection(collection).document(docids.encode(key))

    def acquire(self, owner: str, seconds: int) -> bool:
        """Take the lease unless another live run holds it."""
        ref = self._ref

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> bool:
            held = ref.get(transaction=transaction).to_dict()
            now = datetime.now(UTC)
            if held and held.get("owner") != owner and held["expires_at"] > now:
                return False
            transaction.set(ref, {"owner": owner, "expires_at": now + timedelta(seconds=seconds)})
            return True

        with transaction_errors_as_retryable():
            return bool(take(self._client.transaction()))

    def release(self, owner: str) -> None:
        ref = self._ref

        @firestore.transactional
        def drop(transaction: firestore.Transaction) -> None:
            held = ref.get(transaction=transaction).to_dict()
            if held and held.get("owner") == owner:
                transaction.delete(ref)

        with transaction_errors_as_retryable():
            drop(self._client.transaction())
