"""Firestore side of the real-time layer: feed changes applied in transactions.

A transaction reads the assets' ``resources`` documents and tombstones, decides each change
with :func:`lzsync.logic.newer_wins.decide`, and writes the documents (or deletes them and
writes tombstones) together with each change's ``activity`` entry, so the Portal never sees one
without the other. Many changes can share one transaction (:meth:`EventStore.apply_batch`):
one read and one commit for the batch instead of three round trips per change, which is what
lets one instance keep up with a burst. Inventory counters move in the same commit, as
server-side increments: a change and its count land together or not at all, so neither a
process dying right after the commit nor a redelivery after a lost reply (decided as a
duplicate, counted nothing) can leave the counts off. The increments need no read, so the
single ``inventory`` document is written, never read, by the transaction: no read lock on it,
and only batches that create or delete assets write it (one write per batch, not per change).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from lzsync.adapters.clients import TRANSIENT_GOOGLE_ERRORS
from lzsync.adapters.resource_store import INVENTORY_DOCUMENT, resource_id
from lzsync.collection_names import Collections
from lzsync.errors import UpstreamUnavailable
from lzsync.logic import docids
from lzsync.logic.change_summary import compliance_turn, describe_change
from lzsync.logic.newer_wins import Decision, HeldVersion, decide
from lzsync.model.feed import FeedChange, parse_timestamp


@dataclass(frozen=True)
class AppliedChange:
    decision: Decision
    kind: str | None  # created | updated | deleted, None when nothing visible changed
    asset_type: str | None = None


def _document_time(document: dict[str, Any] | None) -> datetime | None:
    if not document:
        return None
    value = document.get("event_time") or document.get("update_time")
    if isinstance(value, datetime):
        return value
    try:
        return parse_timestamp(value, "update_time")
    except ValueError:
        return None


class EventStore:
    def __init__(
        self,
        client: firestore.Client,
        names: Collections,
        tombstone_ttl_seconds: int,
        activity_ttl_days: int,
    ) -> None:
        self._client = client
        self._resources = client.collection(names.resources)
        self._tombstones = client.collection(names.tombstones)
        self._activity = client.collection(names.activity)
        self._inventory = client.collection(names.inventory).document(INVENTORY_DOCUMENT)
        self._tombstone_ttl = timedelta(seconds=tombstone_ttl_seconds)
        self._activity_ttl = timedelta(days=activity_ttl_days)

    def stored_policy(self, asset_name: str) -> list[dict[str, Any]] | None:
        """The ``iam_policy`` the asset's stored document was judged with, if any: one document
        read (only that field is transferred), outside any transaction. Raises
        UpstreamUnavailable when Firestore fails, so the message is redelivered."""
        reference = self._resources.document(resource_id(asset_name))
        try:
            snapshot = reference.get(field_paths=["iam_policy"])
        except TRANSIENT_GOOGLE_ERRORS as error:
            raise UpstreamUnavailable(
                f"firestore unavailable: {error}", upstream="firestore"
            ) from error
        policy = (snapshot.to_dict() or {}).get("iam_policy") if snapshot.exists else None
        return policy if isinstance(policy, list) else None

    def apply(self, change: FeedChange, document: dict[str, Any] | None) -> AppliedChange:
        """Apply one change; ``document`` is the new ``resources`` document (None for a
        delete). Raises UpstreamUnavailable when Firestore fails or contention persists."""
        return self.apply_batch([(change, document)])[0]

    def apply_batch(
        self, items: Sequence[tuple[FeedChange, dict[str, Any] | None]]
    ) -> list[AppliedChange]:
        """Apply changes in one transaction: one read and one commit for the whole batch.

        Each change is decided against what Firestore holds *after* the batch's earlier changes
        (an in-memory view of the read documents), so a batch gives the same result as applying
        its changes one by one in the given order. Results follow the order of ``items``.
        Raises UpstreamUnavailable when Firestore fails or contention persists; any other error
        (a document Firestore refuses) fails the whole batch, and the caller may retry the
        changes one by one to isolate it.
        """
        doc_ids = {resource_id(change.asset_name) for change, _ in items}
        refs = [self._resources.document(doc_id) for doc_id in sorted(doc_ids)] + [
            self._tombstones.document(doc_id) for doc_id in sorted(doc_ids)
        ]

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> list[AppliedChange]:
            # One round trip for every read (BatchGetDocuments inside the transaction).
            held: dict[str, dict[str, Any] | None] = {ref.path: None for ref in refs}
            for snapshot in transaction.get_all(refs):
                held[snapshot.reference.path] = snapshot.to_dict()
            view = _BatchView(held)
            results = [self._decide(view, change, document) for change, document in items]
            for path, value in view.changed.items():
                ref = self._client.document(path)
                if value is None:
                    transaction.delete(ref)
                else:
                    transaction.set(ref, value)
            for entry_id, entry in view.activity.items():
                transaction.set(self._activity.document(entry_id), entry)
            increments = _inventory_increments(results)
            if increments:
                transaction.set(self._inventory, increments, merge=True)
            return results

        try:
            applied: list[AppliedChange] = run(self._client.transaction())
        except TRANSIENT_GOOGLE_ERRORS as error:
            raise UpstreamUnavailable(
                f"firestore unavailable: {error}", upstream="firestore"
            ) from error
        except ValueError as error:
            # The transaction machinery gives up on persistent contention with a ValueError,
            # and a transaction that fails in an outage ends in a rollback that raises one
            # ("no transaction ID") over the real error: report that one, or the outage reads
            # as contention. Documents were validated before, so nothing else raises here.
            cause = error.__cause__ or error.__context__
            if isinstance(cause, TRANSIENT_GOOGLE_ERRORS):
                raise UpstreamUnavailable(
                    f"firestore unavailable: {cause}", upstream="firestore"
                ) from error
            raise UpstreamUnavailable(
                f"contention on {len(doc_ids)} assets: {error}", upstream="firestore"
            ) from error
        return applied

    def _decide(
        self, view: _BatchView, change: FeedChange, document: dict[str, Any] | None
    ) -> AppliedChange:
        doc_id = resource_id(change.asset_name)
        resource_path = self._resources.document(doc_id).path
        tombstone_path = self._tombstones.document(doc_id).path
        activity_id = docids.encode(f"event:{change.asset_name}:{change.start_time_text}")
        held_doc = view.current(resource_path)
        tombstone = view.current(tombstone_path)
        held = HeldVersion(
            document_time=_document_time(held_doc),
            tombstone_time=tombstone.get("deleted_at") if tombstone else None,
        )
        decision = decide(held, change.start_time, change.deleted)
        if decision == "ignore_stale":
            return AppliedChange(decision, None)
        if decision == "delete":
            view.put(
                tombstone_path,
                {
                    "name": change.asset_name,
                    "deleted_at": change.start_time,
                    "expires_at": change.start_time + self._tombstone_ttl,
                    # When it was written (not when the asset went): what a running snapshot
                    # asks for, see ResourceStore.event_writes_since.
                    "synced_at": firestore.SERVER_TIMESTAMP,
                },
            )
            if held_doc is None:
                return AppliedChange(decision, None)
            view.put(resource_path, None)
            entry = self._entry(change, "deleted", held_doc, "no longer in the inventory")
            view.activity[activity_id] = entry
            return AppliedChange(decision, "deleted", held_doc.get("asset_type"))
        assert document is not None
        view.put(
            resource_path,
            {
                **document,
                "event_time": change.start_time,
                "synced_at": firestore.SERVER_TIMESTAMP,
                # Only event-written documents have it (a snapshot rewrite drops it): lets a
                # running snapshot find what events wrote since it last looked, whatever the
                # version times, with a single-field query.
                "event_synced_at": firestore.SERVER_TIMESTAMP,
            },
        )
        if tombstone is not None:
            view.put(tombstone_path, None)
        kind = "created" if decision == "create" else "updated"
        summary = "new" if held_doc is None else describe_change(held_doc, document)
        view.activity[activity_id] = self._entry(change, kind, document, summary)
        turned = compliance_turn(held_doc, document)
        if turned is not None:
            turn_kind, turn_summary = turned
            turn_id = docids.encode(f"compliance:{change.asset_name}:{change.start_time_text}")
            view.activity[turn_id] = self._entry(change, turn_kind, document, turn_summary)
        return AppliedChange(decision, kind, document.get("asset_type"))

    def _entry(
        self, change: FeedChange, kind: str, document: dict[str, Any], summary: str
    ) -> dict[str, Any]:
        return {
            "layer": "events",
            "kind": kind,
            "asset": change.asset_name,
            "asset_type": document.get("asset_type"),
            "project": document.get("project_id") or document.get("project"),
            "summary": summary,
            "source": "event",
            "time": change.start_time,
            "expires_at": change.start_time + self._activity_ttl,
        }


def _inventory_increments(applied: Sequence[AppliedChange]) -> dict[str, Any]:
    """The batch's net effect on ``inventory``'s ``total`` and ``by_type`` as server-side
    increments (empty when it creates and deletes as many of each type)."""
    by_type: Counter[str] = Counter()
    for change in applied:
        step = {"created": 1, "deleted": -1}.get(change.kind or "")
        if step and change.asset_type:
            by_type[change.asset_type] += step
    moved = {name: step for name, step in by_type.items() if step}
    if not moved:
        return {}
    return {
        "total": firestore.Increment(sum(moved.values())),
        "by_type": {name: firestore.Increment(step) for name, step in moved.items()},
    }


class _BatchView:
    """The documents a batch read, as its earlier changes left them: what later changes in the
    same batch are decided against, and the net writes to commit (None = delete)."""

    def __init__(self, read: dict[str, dict[str, Any] | None]) -> None:
        self._read = read
        self.changed: dict[str, dict[str, Any] | None] = {}
        self.activity: dict[str, dict[str, Any]] = {}

    def current(self, path: str) -> dict[str, Any] | None:
        return self.changed[path] if path in self.changed else self._read.get(path)

    def put(self, path: str, value: dict[str, Any] | None) -> None:
        if value is None and self._read.get(path) is None:
            # Created and removed within the batch: nothing to write (or to delete).
            self.changed.pop(path, None)
            return
        self.changed[path] = value
