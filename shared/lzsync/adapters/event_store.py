"""Firestore side of the real-time layer: one feed change applied in one transaction.

The transaction reads the asset's ``resources`` document and its tombstone, decides with
:func:`lzsync.logic.newer_wins.decide`, and writes the document (or deletes it and writes the
tombstone) together with the change's ``activity`` entry, so the Portal never sees one without
the other. Inventory counters move after the commit with server-side increments: they commute,
need no read, and keep the single ``inventory`` document out of every transaction (Firestore
sustains about one write per second per document under contention).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from lzsync.adapters.clients import TRANSIENT_GOOGLE_ERRORS
from lzsync.adapters.resource_store import INVENTORY_DOCUMENT, resource_id
from lzsync.collection_names import Collections
from lzsync.errors import UpstreamUnavailable
from lzsync.logic import docids
from lzsync.logic.change_summary import describe_change
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

    def apply(self, change: FeedChange, document: dict[str, Any] | None) -> AppliedChange:
        """Apply one change; ``document`` is the new ``resources`` document (None for a
        delete). Raises UpstreamUnavailable when Firestore fails or contention persists."""
        doc_id = resource_id(change.asset_name)
        resource_ref = self._resources.document(doc_id)
        tombstone_ref = self._tombstones.document(doc_id)
        activity_ref = self._activity.document(
            docids.encode(f"event:{change.asset_name}:{change.start_time_text}")
        )

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> AppliedChange:
            # One round trip for both reads (BatchGetDocuments inside the transaction).
            found = {
                snapshot.reference.path: snapshot.to_dict()
                for snapshot in transaction.get_all([resource_ref, tombstone_ref])
            }
            held_doc = found.get(resource_ref.path)
            tombstone = found.get(tombstone_ref.path)
            held = HeldVersion(
                document_time=_document_time(held_doc),
                tombstone_time=tombstone.get("deleted_at") if tombstone else None,
            )
            decision = decide(held, change.start_time, change.deleted)
            if decision == "ignore_stale":
                return AppliedChange(decision, None)
            if decision == "delete":
                transaction.set(
                    tombstone_ref,
                    {
                        "name": change.asset_name,
                        "deleted_at": change.start_time,
                        "expires_at": change.start_time + self._tombstone_ttl,
                    },
                )
                if held_doc is None:
                    return AppliedChange(decision, None)
                transaction.delete(resource_ref)
                entry = self._entry(change, "deleted", held_doc, "no longer in the inventory")
                transaction.set(activity_ref, entry)
                return AppliedChange(decision, "deleted", held_doc.get("asset_type"))
            assert document is not None
            new_doc = {
                **document,
                "event_time": change.start_time,
                "synced_at": firestore.SERVER_TIMESTAMP,
            }
            transaction.set(resource_ref, new_doc)
            if tombstone is not None:
                transaction.delete(tombstone_ref)
            kind = "created" if decision == "create" else "updated"
            summary = "new" if held_doc is None else describe_change(held_doc, document)
            transaction.set(activity_ref, self._entry(change, kind, document, summary))
            return AppliedChange(decision, kind, document.get("asset_type"))

        try:
            applied: AppliedChange = run(self._client.transaction())
        except TRANSIENT_GOOGLE_ERRORS as error:
            raise UpstreamUnavailable(
                f"firestore unavailable: {error}", upstream="firestore"
            ) from error
        except ValueError as error:
            # The transaction machinery gives up on persistent contention with a ValueError;
            # documents were validated before the transaction, so nothing else raises one here.
            raise UpstreamUnavailable(
                f"contention on {doc_id}: {error}", upstream="firestore"
            ) from error
        self._count(applied)
        return applied

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

    def _count(self, applied: AppliedChange) -> None:
        step = {"created": 1, "deleted": -1}.get(applied.kind or "")
        if not step or not applied.asset_type:
            return
        increments = {
            "total": firestore.Increment(step),
            "by_type": {applied.asset_type: firestore.Increment(step)},
        }
        try:
            self._inventory.set(increments, merge=True)
        except TRANSIENT_GOOGLE_ERRORS:
            # The change itself is committed; the next snapshot recounts the inventory.
            return
