"""Firestore side of git sync: documents, their manifest, per-repository state and lease.

The manifest (see :mod:`lzsync.adapters.manifest`) records the fingerprint (blob SHA, kind,
mode) of every document git_sync has written, so a run learns what Firestore holds with
``MANIFEST_SHARDS`` reads instead of one read per document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from google.cloud import firestore

from lzsync.adapters.batches import Batcher
from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.adapters.lease import Lease
from lzsync.adapters.manifest import ShardedManifest
from lzsync.collection_names import Collections
from lzsync.logic import docids
from lzsync.logic.tree_diff import Fingerprint

MANIFEST_SHARDS: Final = 16


def document_id(repo: str, path: str) -> str:
    """The ``documents`` id of a repository file."""
    return docids.encode(f"{repo}:{path}")


@dataclass(frozen=True)
class RepoState:
    """What git_sync remembers about one repository between runs."""

    last_commit: str | None = None
    consecutive_failures: int = 0
    last_failure_at: datetime | None = None


@dataclass(frozen=True)
class DocumentWrite:
    path: str
    data: Mapping[str, Any]
    approx_bytes: int


class GitStore:
    def __init__(self, client: firestore.Client, names: Collections, repo: str) -> None:
        self._client = client
        self._repo = repo
        self._documents = client.collection(names.documents)
        self._manifest = ShardedManifest(client, names.manifests, f"git:{repo}", MANIFEST_SHARDS)
        self._state = client.collection(names.git_state).document(docids.encode(repo))
        self._lease = Lease(client, names.locks, f"git:{repo}")

    # --- state -------------------------------------------------------------------------------
    def load_state(self) -> RepoState:
        with transient_errors_as_retryable("firestore"):
            snapshot = self._state.get()
        data = snapshot.to_dict() or {}
        return RepoState(
            last_commit=data.get("last_commit"),
            consecutive_failures=int(data.get("consecutive_failures", 0)),
            last_failure_at=data.get("last_failure_at"),
        )

    def save_success(self, commit: str, commit_time: datetime) -> None:
        with transient_errors_as_retryable("firestore"):
            self._state.set(
                {
                    "repo": self._repo,
                    "last_commit": commit,
                    "last_commit_time": commit_time,
                    "last_success": datetime.now(UTC),
                    "consecutive_failures": 0,
                    "last_failure_at": None,
                },
                merge=True,
            )

    def save_failure(self, error: str) -> RepoState:
        """Count one more consecutive failure and return the new state."""
        now = datetime.now(UTC)
        with transient_errors_as_retryable("firestore"):
            self._state.set(
                {
                    "repo": self._repo,
                    "consecutive_failures": firestore.Increment(1),
                    "last_failure_at": now,
                    "last_error": error,
                },
                merge=True,
            )
        return self.load_state()

    # --- lease ---------------------------------------------------------------------------------
    def acquire_lease(self, owner: str, seconds: int) -> bool:
        return self._lease.acquire(owner, seconds)

    def release_lease(self, owner: str) -> None:
        self._lease.release(owner)

    # --- manifest ----------------------------------------------------------------------------
    def load_manifest(self) -> dict[str, Fingerprint]:
        return {path: Fingerprint.decode(value) for path, value in self._manifest.load().items()}

    def save_manifest(self, manifest: Mapping[str, Fingerprint], changed: Iterable[str]) -> int:
        """Rewrite the shards holding ``changed`` paths; returns the number of shards written."""
        encoded = {path: fingerprint.encode() for path, fingerprint in manifest.items()}
        return self._manifest.save(encoded, changed)

    # --- documents -----------------------------------------------------------------------------
    def apply(self, writes: Sequence[DocumentWrite], deletes: Sequence[str]) -> None:
        """Write and delete documents in batches within Firestore's per-request limits."""
        batcher = Batcher(self._client)
        for write in writes:
            ref = self._documents.document(document_id(self._repo, write.path))
            batcher.set(ref, dict(write.data), write.approx_bytes)
        for path in deletes:
            batcher.delete(self._documents.document(document_id(self._repo, path)))
        batcher.flush()
