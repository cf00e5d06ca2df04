"""Leases in ``_locks``: at most one run at a time per repository or snapshot scope.

A lease expires on its own (``expires_at``) so a crashed run cannot block the next one for
longer than the function's timeout. Taking, renewing and dropping are transactions, so two runs
racing for the same lease cannot both win. A run that may outlive its lease renews it while it
works, and stops writing when a renewal finds that another run took it (:meth:`Lease.renew`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from google.cloud import firestore

from lzsync.adapters.clients import transaction_errors_as_retryable
from lzsync.errors import LeaseLost
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

    def renew(self, owner: str, seconds: int) -> bool:
        """Extend the lease ``owner`` holds; False when another run holds it now (or took it
        and already dropped it), so ``owner`` must stop writing. An expired lease nobody else
        took is still ``owner``'s to extend."""
        ref = self._ref

        @firestore.transactional
        def extend(transaction: firestore.Transaction) -> bool:
            held = ref.get(transaction=transaction).to_dict()
            if not held or held.get("owner") != owner:
                return False
            now = datetime.now(UTC)
            transaction.set(ref, {"owner": owner, "expires_at": now + timedelta(seconds=seconds)})
            return True

        with transaction_errors_as_retryable():
            return bool(extend(self._client.transaction()))

    def release(self, owner: str) -> None:
        ref = self._ref

        @firestore.transactional
        def drop(transaction: firestore.Transaction) -> None:
            held = ref.get(transaction=transaction).to_dict()
            if held and held.get("owner") == owner:
                transaction.delete(ref)

        with transaction_errors_as_retryable():
            drop(self._client.transaction())


class HeldLease:
    """A lease one run holds, renewed as the run works: call :meth:`hold` before each write.

    Why: a run that outlives its lease (a stalled page, a lease shorter than the run) would
    otherwise keep writing after the next run took the scope over, putting its older view
    back over the newer one. ``hold`` renews once half the lease has passed since it was last
    taken, so a working run keeps it (and costs nothing while the lease is young), and raises
    :class:`~lzsync.errors.LeaseLost` when another run holds it now."""

    def __init__(
        self,
        lease: Lease,
        owner: str,
        seconds: int,
        key: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lease = lease
        self._owner = owner
        self._seconds = seconds
        self._key = key
        self._clock = clock
        self._taken_at = clock()

    def hold(self) -> bool:
        """True when it renewed the lease (a read and a write), False when it was young."""
        now = self._clock()
        if now - self._taken_at < self._seconds / 2:
            return False
        if not self._lease.renew(self._owner, self._seconds):
            raise LeaseLost(self._key)
        self._taken_at = now
        return True
