"""Firestore side of the asset snapshot: ``resources``, their manifest, ``inventory``, and the
per-scope state (circuit breaker, last inventory) and lease.

The manifest maps each asset name to the content hash of its ``resources`` document
(:mod:`lzsync.adapters.manifest`), so an unchanged estate is recognised with one read per shard
instead of one per asset. Every read and write is counted in :class:`OperationCounts`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from google.api_core import exceptions as google_errors
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.batches import MAX_BATCH_BYTES, Batcher, OperationCounts
from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.adapters.lease import Lease
from lzsync.adapters.manifest import ShardedManifest
from lzsync.collection_names import Collections
from lzsync.errors import InvalidPayload
from lzsync.logic import docids
from lzsync.logic.newer_wins import listing_superseded
from lzsync.model.feed import parse_timestamp

INVENTORY_DOCUMENT: Final = "assets"
_GET_ALL_CHUNK: Final = 300
# Documents per guarded write (a transaction's commit takes at most 500 writes).
_GUARDED_CHUNK: Final = 250


def resource_id(asset_name: str) -> str:
    return docids.encode(asset_name)


def _chunks(documents: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Documents in commit-sized groups: ≤ _GUARDED_CHUNK writes and about MAX_BATCH_BYTES."""
    chunk: list[dict[str, Any]] = []
    size = 0
    for document in documents:
        approx_bytes = len(json.dumps(document, default=str))
        if chunk and (len(chunk) >= _GUARDED_CHUNK or size + approx_bytes > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(document)
        size += approx_bytes
    if chunk:
        yield chunk


def _listed_time(document: Mapping[str, Any]) -> datetime | None:
    """The listed version's time (its ``update_time``), None when it has no usable one."""
    try:
        return parse_timestamp(document.get("update_time"), "update_time")
    except InvalidPayload:
        return None


class ResourceStore:
    def __init__(
        self,
        client: firestore.Client,
        names: Collections,
        scope: str,
        shards: int,
        counts: OperationCounts,
    ) -> None:
        self._client = client
        self.counts = counts
        self._resources = client.collection(names.resources)
        self._tombstones = client.collection(names.tombstones)
        self._inventory = client.collection(names.inventory).document(INVENTORY_DOCUMENT)
        self._compliance = client.collection(names.compliance).document("summary")
        self._state = client.collection(names.asset_state).document(docids.encode(scope))
        self._manifest = ShardedManifest(client, names.manifests, f"assets:{scope}", shards, counts)
        self.lease = Lease(client, names.locks, f"assets:{scope}")
        self._scope = scope

    # --- state ---------------------------------------------------------------------------------
    def load_state(self) -> dict[str, Any]:
        with transient_errors_as_retryable("firestore"):
            snapshot = self._state.get()
        self.counts.reads += 1
        return snapshot.to_dict() or {}

    def save_state(self, fields: Mapping[str, Any]) -> None:
        with transient_errors_as_retryable("firestore"):
            self._state.set({"scope": self._scope, **fields}, merge=True)
        self.counts.writes += 1

    # --- manifest ------------------------------------------------------------------------------
    def load_manifest(self) -> dict[str, str]:
        return self._manifest.load()

    def save_manifest(self, manifest: Mapping[str, str], changed: Iterable[str]) -> int:
        return self._manifest.save(manifest, changed)

    # --- resources -----------------------------------------------------------------------------
    def write(self, documents: Sequence[dict[str, Any]]) -> list[str]:
        """Write documents in batches; returns the names of those Firestore refused.

        A batch is all or nothing, so one document Firestore rejects (too big, a shape it does
        not store) would sink the page: a refused batch is retried one document at a time."""
        try:
            self._write_batched(documents)
            return []
        except google_errors.InvalidArgument:
            refused = []
            for document in documents:
                try:
                    self._write_batched([document])
                except google_errors.InvalidArgument:
                    refused.append(document["name"])
            return refused

    def _write_batched(self, documents: Sequence[dict[str, Any]]) -> None:
        batcher = Batcher(self._client, self.counts)
        for document in documents:
            data = {**document, "synced_at": firestore.SERVER_TIMESTAMP}
            size = len(json.dumps(document, default=str))
            batcher.set(self._resources.document(resource_id(document["name"])), data, size)
        batcher.flush()

    def write_unless_superseded(
        self, documents: Sequence[dict[str, Any]]
    ) -> tuple[list[str], list[str]]:
        """Write listed documents, each unless the real-time layer holds a newer version of
        its asset; returns the names (refused by Firestore, superseded).

        Why a transaction: a snapshot looks for real-time writes just before each page's
        write, but an event can commit between that look and the write, and a plain write
        would then put the older listed version back over it (or resurrect the asset it
        deleted). Here the documents and, for those missing, their tombstones are read in the
        transaction that writes them, so an event either committed before (and wins) or
        commits after (and is decided against the listed version, as ever). Costs one read per
        document, plus one per document Firestore does not hold; chunks stay well within a
        commit's 500 writes. A chunk Firestore refuses is retried document by document, so
        one refused document fails alone."""
        refused: list[str] = []
        superseded: list[str] = []
        for chunk in _chunks(documents):
            try:
                superseded += self._write_guarded(chunk)
            except google_errors.InvalidArgument:
                for document in chunk:
                    try:
                        superseded += self._write_guarded([document])
                    except google_errors.InvalidArgument:
                        refused.append(document["name"])
        return refused, superseded

    def _write_guarded(self, chunk: Sequence[dict[str, Any]]) -> list[str]:
        refs = [self._resources.document(resource_id(d["name"])) for d in chunk]
        tombstones = [self._tombstones.document(resource_id(d["name"])) for d in chunk]

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> tuple[list[str], int]:
            held = {
                snap.reference.path: snap.to_dict() or {}
                for snap in transaction.get_all(refs)
                if snap.exists
            }
            missing = [
                tomb for ref, tomb in zip(refs, tombstones, strict=True) if ref.path not in held
            ]
            deleted = {
                snap.reference.path: (snap.to_dict() or {}).get("deleted_at")
                for snap in (transaction.get_all(missing) if missing else [])
                if snap.exists
            }
            passed_over: list[str] = []
            for document, ref, tomb in zip(chunk, refs, tombstones, strict=True):
                stored = held.get(ref.path)
                newer = stored.get("event_time") if stored is not None else deleted.get(tomb.path)
                if listing_superseded(_listed_time(document), newer):
                    passed_over.append(document["name"])
                    continue
                transaction.set(ref, {**document, "synced_at": firestore.SERVER_TIMESTAMP})
            return passed_over, len(missing)

        passed_over: list[str]
        with transient_errors_as_retryable("firestore"):
            passed_over, tombstone_reads = run(self._client.transaction())
        self.counts.reads += len(refs) + tombstone_reads
        self.counts.writes += len(chunk) - len(passed_over)
        return passed_over

    def delete(self, asset_names: Iterable[str]) -> None:
        batcher = Batcher(self._client, self.counts)
        for name in asset_names:
            batcher.delete(self._resources.document(resource_id(name)))
        batcher.flush()

    def read(self, asset_names: Sequence[str]) -> Iterator[dict[str, Any]]:
        """The stored documents of these assets (reads ∝ how many are asked for)."""
        for start in range(0, len(asset_names), _GET_ALL_CHUNK):
            chunk = asset_names[start : start + _GET_ALL_CHUNK]
            refs = [self._resources.document(resource_id(name)) for name in chunk]
            with transient_errors_as_retryable("firestore"):
                snapshots = list(self._client.get_all(refs))
            self.counts.reads += len(refs)
            for snapshot in snapshots:
                if snapshot.exists:
                    yield snapshot.to_dict() or {}

    def stored_policies(self, asset_names: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The ``iam_policy`` the stored documents of these assets were judged with, for those
        that have one (reads ∝ how many are asked for; only that field is transferred)."""
        policies: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(asset_names), _GET_ALL_CHUNK):
            chunk = asset_names[start : start + _GET_ALL_CHUNK]
            refs = [self._resources.document(resource_id(name)) for name in chunk]
            with transient_errors_as_retryable("firestore"):
                snapshots = list(self._client.get_all(refs, field_paths=["name", "iam_policy"]))
            self.counts.reads += len(refs)
            for snapshot in snapshots:
                document = (snapshot.to_dict() or {}) if snapshot.exists else {}
                policy = document.get("iam_policy")
                if isinstance(document.get("name"), str) and isinstance(policy, list):
                    policies[document["name"]] = policy
        return policies

    # --- what the real-time layer wrote -------------------------------------------------------
    def event_times_since(self, since: datetime) -> dict[str, datetime]:
        """Assets the real-time layer changed at or after ``since`` (reads ∝ those changes)."""
        query = self._resources.where(filter=FieldFilter("event_time", ">=", since)).select(
            ["name", "event_time"]
        )
        with transient_errors_as_retryable("firestore"):
            snapshots = list(query.stream())
        self.counts.reads += max(1, len(snapshots))  # a query costs at least one read
        return {snap.get("name"): snap.get("event_time") for snap in snapshots}

    def event_writes_since(self, written_since: datetime) -> dict[str, datetime]:
        """Assets the real-time layer updated or deleted by a write at or after
        ``written_since`` (a write time, not a version time), with each version's time: the
        ``event_time`` of an event-written document, the ``deleted_at`` of a tombstone. Reads
        ∝ those writes: two single-field range queries."""
        documents = self._resources.where(
            filter=FieldFilter("event_synced_at", ">=", written_since)
        ).select(["name", "event_time"])
        tombstones = self._tombstones.where(
            filter=FieldFilter("synced_at", ">=", written_since)
        ).select(["name", "deleted_at"])
        with transient_errors_as_retryable("firestore"):
            written = list(documents.stream())
            deleted = list(tombstones.stream())
        self.counts.reads += max(1, len(written)) + max(1, len(deleted))
        changes = {snap.get("name"): snap.get("event_time") for snap in written}
        for snap in deleted:
            name, deleted_at = snap.get("name"), snap.get("deleted_at")
            if name not in changes or deleted_at > changes[name]:
                changes[name] = deleted_at
        return changes

    def tombstone_times(self) -> dict[str, datetime]:
        """Recent deletions seen by the real-time layer (tombstones expire by TTL: few)."""
        with transient_errors_as_retryable("firestore"):
            snapshots = list(self._tombstones.select(["name", "deleted_at"]).stream())
        self.counts.reads += max(1, len(snapshots))
        return {snap.get("name"): snap.get("deleted_at") for snap in snapshots}

    # --- inventory -----------------------------------------------------------------------------
    def save_compliance(self, summary: Mapping[str, Any]) -> None:
        self._save_summary(self._compliance, summary)

    def save_inventory(self, inventory: Mapping[str, Any]) -> None:
        self._save_summary(self._inventory, inventory)

    def _save_summary(
        self, reference: firestore.DocumentReference, summary: Mapping[str, Any]
    ) -> None:
        """A whole-scope summary document the Portal listens to, stamped with its scope."""
        data = {**summary, "scope": self._scope, "updated_at": datetime.now(UTC)}
        with transient_errors_as_retryable("firestore"):
            reference.set(data)
        self.counts.writes += 1
