"""Sharded manifests: a compact record of what a layer has written, cheap to read back.

A manifest maps keys (a file path, an asset name) to a short fingerprint of what was written for
them. It lives in a fixed number of shard documents (``_manifests/<name>:<shard>``), a key's
shard chosen by a hash of the key. Reading a manifest costs one read per shard, however many keys
it holds; a run rewrites only the shards whose keys changed.

Each shard stores its entries as one zlib-compressed JSON blob, not as a map: Firestore indexes
every map subfield by default, so a map of thousands of keys would cost thousands of index
entries per write and run into the 40,000-entries-per-document limit ("Usage and limits").

Manifests are written *after* the documents they describe: a crash in between leaves the
manifest behind the documents, so the next run rewrites or re-deletes a few documents; it can
never make a run skip one.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Final

from google.cloud import firestore

from lzsync.adapters.batches import Batcher, OperationCounts
from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.logic import docids

# Firestore documents are at most 1 MiB; leave room for the other fields.
MAX_SHARD_BYTES: Final = 1_000_000


class ManifestShardFull(RuntimeError):
    """A shard outgrew a Firestore document: the manifest needs more shards."""


class ShardedManifest:
    def __init__(
        self,
        client: firestore.Client,
        collection: str,
        name: str,
        shards: int,
        counts: OperationCounts | None = None,
    ) -> None:
        self._counts = counts or OperationCounts()
        self._client = client
        self._collection = client.collection(collection)
        self._name = name
        self._shards = shards

    def shard_of(self, key: str) -> int:
        digest = hashlib.sha1(key.encode(), usedforsecurity=False).digest()
        return int.from_bytes(digest[:4], "big") % self._shards

    def _ref(self, shard: int) -> firestore.DocumentReference:
        return self._collection.document(docids.encode(f"{self._name}:{shard:04d}"))

    def load(self) -> dict[str, str]:
        """Every entry of every shard (``shards`` document reads)."""
        refs = [self._ref(shard) for shard in range(self._shards)]
        with transient_errors_as_retryable("firestore"):
            snapshots = list(self._client.get_all(refs))
        self._counts.reads += len(refs)
        entries: dict[str, str] = {}
        for snapshot in snapshots:
            blob = (snapshot.to_dict() or {}).get("entries_zlib")
            if blob:
                entries.update(json.loads(zlib.decompress(blob)))
        return entries

    def save(self, entries: Mapping[str, str], changed: Iterable[str]) -> int:
        """Rewrite the shards holding ``changed`` keys from ``entries`` (the whole new
        manifest); returns how many shards were written."""
        shards = {self.shard_of(key) for key in changed}
        if not shards:
            return 0
        by_shard: dict[int, dict[str, str]] = {shard: {} for shard in shards}
        for key, value in entries.items():
            shard = self.shard_of(key)
            if shard in by_shard:
                by_shard[shard][key] = value
        # Shards are up to 1 MB each: commit them within Firestore's 10 MiB request limit.
        batcher = Batcher(self._client, self._counts)
        for shard, shard_entries in by_shard.items():
            blob = zlib.compress(json.dumps(shard_entries, separators=(",", ":")).encode())
            if len(blob) > MAX_SHARD_BYTES:
                raise ManifestShardFull(
                    f"manifest {self._name} shard {shard} holds {len(shard_entries)} keys "
                    f"({len(blob)} bytes compressed): raise its shard count"
                )
            batcher.set(
                self._ref(shard),
                {"manifest": self._name, "count": len(shard_entries), "entries_zlib": blob},
                approx_bytes=len(blob) + 1024,
            )
        batcher.flush()
        return len(shards)
