"""Layer 2: converge the Portal's ``documents`` to the head of each landing-zone branch.

A run fetches the branch, classifies the head tree, diffs it against the manifest of what
Firestore holds, writes only added or changed files, deletes removed ones, then records the
manifest, every file change (``_doc_changes``, for the history layer), the synced commit, one
``activity`` entry and ``sync_status/git``. It syncs the head,
never the commit named in the request, so late or duplicated requests cannot roll back.

Failures keep the last good content: nothing is deleted before the new state is known, and the
status says what failed. Transient failures are retried in-process with backoff, then raised so
Pub/Sub redelivers; after ``circuit_failure_threshold`` consecutive failed runs the circuit
opens and runs skip the remote until ``circuit_open_seconds`` have passed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from google.cloud import firestore
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.doc_change_log import DocChangeLog
from lzsync.adapters.git_mirror import GitMirror, HeadCommit
from lzsync.adapters.git_store import DocumentWrite, GitStore
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.errors import RetryableError, SyncInProgress, UnknownRepository, UpstreamUnavailable
from lzsync.logic.circuit import CircuitPolicy
from lzsync.logic.classify import Classifier
from lzsync.logic.doc_changes import file_changes
from lzsync.logic.file_content import describe
from lzsync.logic.tree_diff import Fingerprint, TreeDiff, diff
from lzsync.logs import audit, bound
from lzsync.model.sync_request import SyncRequest
from lzsync.settings import RepoConfig, Settings

_log = logging.getLogger("lzsync.git")

# Paths listed per activity entry; a bigger change is summarised by its counts.
_ACTIVITY_MAX_PATHS: Final = 100
_DOCUMENT_OVERHEAD_BYTES: Final = 1024


@dataclass(frozen=True)
class RepoSyncOutcome:
    repo: str
    outcome: str  # synced | up_to_date | skipped_circuit_open
    commit: str | None
    written: int = 0
    deleted: int = 0
    duration_seconds: float = 0.0


MirrorFactory = Callable[[RepoConfig], GitMirror]


class GitSyncService:
    def __init__(
        self,
        settings: Settings,
        client: firestore.Client,
        status: StatusBoard,
        activity: ActivityFeed,
        mirror_factory: MirrorFactory | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._names = Collections(settings.collection_prefix)
        self._status = status
        self._activity = activity
        self._doc_changes = DocChangeLog(
            client, self._names.doc_changes, settings.activity_ttl_days
        )
        self._circuit = CircuitPolicy(
            settings.circuit_failure_threshold, settings.circuit_open_seconds
        )
        self._mirror_factory = mirror_factory or (
            lambda repo: GitMirror(settings.git_cache_dir, repo, settings.git_token)
        )

    def handle(self, request: SyncRequest) -> list[RepoSyncOutcome]:
        """Sync the requested repository, or every configured one for a scheduled run."""
        if request.repo is None:
            repos = list(self._settings.repos)
        else:
            repo = self._settings.repo(request.repo)
            if repo is None:
                raise UnknownRepository(request.repo)
            repos = [repo]
        return [self.sync_repo(repo, request) for repo in repos]

    def sync_repo(self, repo: RepoConfig, request: SyncRequest) -> RepoSyncOutcome:
        with bound(repo=repo.name, trigger=request.trigger, delivery=request.delivery):
            store = GitStore(self._client, self._names, repo.name)
            state = store.load_state()
            now = datetime.now(UTC)
            circuit = self._circuit.state(state.consecutive_failures, state.last_failure_at, now)
            if circuit == "open":
                return self._skip_open_circuit(repo, request, state.consecutive_failures, now)
            owner = uuid.uuid4().hex
            if not store.acquire_lease(owner, self._settings.sync_lease_seconds):
                raise SyncInProgress(repo.name)
            started = time.monotonic()
            try:
                outcome = self._sync_locked(repo, request, store, state.last_commit, started)
            except Exception as error:
                # Whatever failed, the Portal must see it; the error still propagates so the
                # message is retried (retryable) or ends on the dead-letter topic (a bug).
                self._record_failure(repo, request, store, error, now, started)
                raise
            finally:
                store.release_lease(owner)
            return outcome

    def _sync_locked(
        self,
        repo: RepoConfig,
        request: SyncRequest,
        store: GitStore,
        last_commit: str | None,
        started: float,
    ) -> RepoSyncOutcome:
        mirror = self._mirror_factory(repo)
        head = self._fetch_with_retries(mirror)
        with bound(commit=head.sha):
            if head.sha == last_commit:
                outcome = RepoSyncOutcome(
                    repo.name, "up_to_date", head.sha, duration_seconds=_since(started)
                )
            else:
                changes, kinds = self._converge(repo, store, mirror, head)
                # Before the commit is marked synced: a crash in between re-runs this sync,
                # and the log's ids make the re-run rewrite the same entries.
                self._doc_changes.record(
                    repo=repo.name,
                    commit=head.sha,
                    commit_time=head.time,
                    changes=file_changes(changes, kinds),
                )
                store.save_success(head.sha, head.time)
                outcome = RepoSyncOutcome(
                    repo.name,
                    "synced",
                    head.sha,
                    written=len(changes.to_write),
                    deleted=len(changes.removed),
                    duration_seconds=_since(started),
                )
                if not changes.is_empty:
                    self._record_activity(repo, request, head, changes)
            self._record_success(repo, head, outcome)
            audit(
                "git_sync",
                outcome=outcome.outcome,
                repo=repo.name,
                commit=head.sha,
                trigger=request.trigger,
                actor=request.actor,
                requested_after=request.after,
                written=outcome.written,
                deleted=outcome.deleted,
            )
            return outcome

    def _fetch_with_retries(self, mirror: GitMirror) -> HeadCommit:
        settings = self._settings

        @retry(
            retry=retry_if_exception_type(UpstreamUnavailable),
            stop=stop_after_attempt(settings.git_fetch_attempts),
            wait=wait_exponential_jitter(multiplier=settings.git_fetch_backoff_seconds),
            reraise=True,
        )
        def fetch() -> HeadCommit:
            return mirror.fetch_head()

        return fetch()

    def _converge(
        self, repo: RepoConfig, store: GitStore, mirror: GitMirror, head: HeadCommit
    ) -> tuple[TreeDiff, dict[str, str]]:
        """Write what changed; returns the changes and the classification of their paths."""
        classifier = Classifier(self._settings.classify_rules, repo.include, repo.exclude)
        wanted: dict[str, Fingerprint] = {}
        for entry in mirror.files(head.sha):
            kind = classifier.kind_of(entry.path)
            if kind is not None:
                wanted[entry.path] = Fingerprint(entry.sha, kind, entry.mode)
        held = store.load_manifest()
        changes = diff(held, wanted)
        writes = [
            self._document(repo, path, wanted[path], mirror, head) for path in changes.to_write
        ]
        store.apply(writes, changes.removed)
        store.save_manifest(wanted, changes.to_write + changes.removed)
        _log.info(
            "documents converged",
            extra={
                "written": len(writes),
                "deleted": len(changes.removed),
                "classified_files": len(wanted),
            },
        )
        kinds = {path: held[path].kind for path in changes.removed}
        kinds.update({path: wanted[path].kind for path in changes.to_write})
        return changes, kinds

    def _document(
        self,
        repo: RepoConfig,
        path: str,
        fingerprint: Fingerprint,
        mirror: GitMirror,
        head: HeadCommit,
    ) -> DocumentWrite:
        data = None if fingerprint.mode == 0o160000 else mirror.read_blob(fingerprint.blob_sha)
        content = describe(
            data, mode=fingerprint.mode, max_text_bytes=self._settings.max_document_bytes
        )
        document: dict[str, Any] = {
            "repo": repo.name,
            "path": path,
            "kind": fingerprint.kind,
            "title": content.title,
            "content": content.text,
            "size_bytes": content.size_bytes,
            "flag": content.flag,
            "link_target": content.link_target,
            "blob_sha": fingerprint.blob_sha,
            "mode": f"{fingerprint.mode:o}",
            "commit_sha": head.sha,
            "commit_time": head.time,
            "web_url": f"https://github.com/{repo.name}/blob/{head.sha}/{quote(path)}",
            "synced_at": firestore.SERVER_TIMESTAMP,
        }
        size = len(content.text.encode()) if content.text else 0
        return DocumentWrite(path, document, size + _DOCUMENT_OVERHEAD_BYTES)

    def _record_activity(
        self, repo: RepoConfig, request: SyncRequest, head: HeadCommit, changes: TreeDiff
    ) -> None:
        listed = {
            "added": changes.added,
            "modified": changes.modified,
            "removed": changes.removed,
        }
        entry: dict[str, Any] = {
            "layer": "git",
            "kind": "docs_synced",
            "repo": repo.name,
            "commit": head.sha,
            "commit_time": head.time,
            "summary": head.summary,
            "trigger": request.trigger,
            "actor": request.actor,
            "counts": {name: len(paths) for name, paths in listed.items()}
            | {"renamed": len(changes.renamed)},
            "renamed": [
                {"from": old, "to": new} for old, new in changes.renamed[:_ACTIVITY_MAX_PATHS]
            ],
            "truncated": any(len(paths) > _ACTIVITY_MAX_PATHS for paths in listed.values()),
        }
        entry.update({name: list(paths[:_ACTIVITY_MAX_PATHS]) for name, paths in listed.items()})
        self._activity.record(f"git:{repo.name}:{head.sha}", entry)

    def _status_fields(self, repo: RepoConfig, fields: dict[str, Any]) -> dict[str, Any]:
        """The same fields at the top (latest run of any repo) and under ``repos.<name>``."""
        return {**fields, "repos": {repo.name: fields}}

    def _record_success(self, repo: RepoConfig, head: HeadCommit, outcome: RepoSyncOutcome) -> None:
        now = datetime.now(UTC)
        fields = {
            "state": "ok",
            "last_attempt": now,
            "last_success": now,
            "last_commit": head.sha,
            "last_commit_time": head.time,
            "last_outcome": outcome.outcome,
            "counts": {"written": outcome.written, "deleted": outcome.deleted},
            "duration_seconds": round(outcome.duration_seconds, 3),
            "last_error": None,
            "pending_since": None,
            "circuit": {"state": "closed", "consecutive_failures": 0},
            "expected_interval_seconds": self._settings.git_expected_interval_seconds,
        }
        self._status.update("git", self._status_fields(repo, fields), increments={"runs": 1})

    def _record_failure(
        self,
        repo: RepoConfig,
        request: SyncRequest,
        store: GitStore,
        error: Exception,
        attempted_at: datetime,
        started: float,
    ) -> None:
        """Say what failed in the status; the documents keep their last good content."""
        try:
            state = store.save_failure(str(error))
            failures = state.consecutive_failures
            threshold = self._settings.circuit_failure_threshold
            fields = {
                "state": "failing" if failures >= threshold else "degraded",
                "last_attempt": attempted_at,
                "last_outcome": "failed",
                "last_error": {
                    "type": type(error).__name__,
                    "message": str(error),
                    "at": datetime.now(UTC),
                },
                "duration_seconds": round(_since(started), 3),
                "pending_since": request.requested_at or attempted_at,
                "circuit": {
                    "state": "open" if failures >= threshold else "closed",
                    "consecutive_failures": failures,
                },
                "expected_interval_seconds": self._settings.git_expected_interval_seconds,
            }
            self._status.update(
                "git", self._status_fields(repo, fields), increments={"failures": 1}
            )
        except RetryableError as status_error:
            _log.warning("sync_status/git not updated", extra={"error": str(status_error)})
        _log.error(
            "git sync failed", extra={"error": str(error), "error_type": type(error).__name__}
        )
        audit(
            "git_sync", outcome="failed", repo=repo.name, trigger=request.trigger, error=str(error)
        )

    def _skip_open_circuit(
        self, repo: RepoConfig, request: SyncRequest, failures: int, now: datetime
    ) -> RepoSyncOutcome:
        """While the circuit is open the remote is not contacted. The request is acknowledged:
        the first run after the cool-down syncs the head, which includes what it asked for."""
        fields = {
            "state": "failing",
            "last_attempt": now,
            "last_outcome": "skipped_circuit_open",
            "pending_since": request.requested_at or now,
            "circuit": {"state": "open", "consecutive_failures": failures},
        }
        self._status.update("git", self._status_fields(repo, fields), increments={"skipped": 1})
        audit("git_sync", outcome="skipped_circuit_open", repo=repo.name, trigger=request.trigger)
        return RepoSyncOutcome(repo.name, "skipped_circuit_open", None)


def _since(started: float) -> float:
    return time.monotonic() - started
