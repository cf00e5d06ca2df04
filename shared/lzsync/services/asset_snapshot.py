"""Layer 3: converge ``resources`` to a complete picture of the estate, writing only changes.

One run streams the source page by page. Each asset becomes its ``resources`` document and a
content hash; the hash is compared with the manifest of what Firestore holds, and only new or
changed documents are written, a page at a time (memory stays bounded by one page plus the
manifest). Only a *complete* listing can show that an asset is gone: then the missing assets
are deleted and recorded in ``activity`` — unless they are more than
``LZSYNC_ASSET_MAX_DELETE_SHARE`` of the estate (and the minimum allowance), which looks like a
wrong scope or an empty answer rather than a real change: then nothing is deleted, the inventory
is left as it was, and the run reports ``guarded`` for a human to look. A partial listing writes
what it saw, deletes nothing and says so in ``sync_status/assets``; any other failure is
reported as ``failed``, and both count toward the circuit breaker.

When a loaded constraint reads IAM policies, a run first lists them (content type IAM_POLICY;
:mod:`lzsync.services.asset_policies`) and judges each listed asset with its policy. If that
listing fails, the run is partial: assets are judged with the policy their stored document
holds, so no IAM violation is cleared on that evidence, and nothing is deleted.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.asset_sources import AssetSource, ListingIncomplete
from lzsync.adapters.batches import OperationCounts
from lzsync.adapters.constraint_store import ConstraintSet
from lzsync.adapters.lease import HeldLease
from lzsync.adapters.resource_store import ResourceStore
from lzsync.adapters.status import StatusBoard
from lzsync.errors import InvalidPayload, LeaseLost, RetryableError, SyncInProgress
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.circuit import CircuitPolicy
from lzsync.logic.compliance.summary import ComplianceTally
from lzsync.logic.inventory import InventoryTally
from lzsync.logic.newer_wins import listing_superseded
from lzsync.logs import audit, bound
from lzsync.model.feed import parse_timestamp
from lzsync.services.asset_policies import PolicyIndex, policies_for
from lzsync.services.snapshot_compliance_turns import ComplianceTurns
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.assets")
_PROGRESS_EVERY_PAGES: Final = 10
# A listing's view of an asset can trail the real-time layer by the feed's delivery lag.
_EVENT_LAG_MARGIN: Final = timedelta(minutes=10)
# Write times are Firestore's server timestamps, compared with this instance's clock: look a
# little further back than the last look so clock skew cannot hide a write.
_WRITE_CLOCK_MARGIN: Final = timedelta(seconds=2)


class _NewerChanges:
    """What the real-time layer wrote that a listing must not overwrite: event-written versions
    and tombstones newer than the listed version. Refreshed before each page's write with only
    what was written since the last look, so reads stay ∝ real-time changes.

    The refresh asks by *write* time (``event_synced_at``, a tombstone's ``synced_at``), not by
    version time: a feed message commonly arrives seconds to minutes after its
    ``window.startTime``, and one that lands during the listing must be seen whatever its
    version time, deletions included (an earlier version asked only for event-written
    documents with a version time after the previous look, so late messages and deletions
    that landed mid-listing were overwritten or resurrected)."""

    def __init__(self, store: ResourceStore, since: datetime) -> None:
        self._store = store
        self._checked = datetime.now(UTC) - _WRITE_CLOCK_MARGIN
        self._times: dict[str, datetime] = store.event_times_since(since)
        self._written: set[str] = set()  # found by a refresh: written during the run
        for name, deleted_at in store.tombstone_times().items():
            self._note(name, deleted_at)

    def _note(self, name: str, changed_at: datetime) -> None:
        if name not in self._times or changed_at > self._times[name]:
            self._times[name] = changed_at

    def refresh(self) -> None:
        looked_at = datetime.now(UTC)
        for name, changed_at in self._store.event_writes_since(self._checked).items():
            self._note(name, changed_at)
            self._written.add(name)
        self._checked = looked_at - _WRITE_CLOCK_MARGIN

    def supersedes(self, document: dict[str, Any]) -> bool:
        try:
            listed = parse_timestamp(document.get("update_time"), "update_time")
        except InvalidPayload:
            listed = None  # no version time in the listing: the event's version is the known one
        return listing_superseded(listed, self._times.get(document["name"]))

    @property
    def active(self) -> bool:
        """Whether the real-time layer wrote lately (a change from the last ten minutes before
        the listing or since, or a live tombstone). Only then are a page's documents written
        in a transaction that checks each against Firestore (twice the reads, and much slower
        on the emulator); otherwise an event landing between the last look and the write is
        the first in ten minutes, and the next run rewrites what it overwrote."""
        return bool(self._times)

    def touched_since(self, since: datetime) -> set[str]:
        """Assets whose real-time version is from ``since`` on, or written during the run."""
        recent = {name for name, changed_at in self._times.items() if changed_at >= since}
        return recent | self._written


@dataclass
class SnapshotOutcome:
    outcome: str  # complete | partial | failed | guarded | skipped_circuit_open | lease_lost
    seen: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    invalid: int = 0
    pages: int = 0
    read_time: str | None = None
    error: str | None = None
    would_delete: int = 0
    duration_seconds: float = 0.0
    inventory_hash: str | None = None
    compliance_hash: str | None = None
    # Changed in the listing but already newer in Firestore (the real-time layer got there).
    superseded: int = 0
    # The IAM pass (only when a loaded constraint reads IAM policies): assets with a policy
    # listed, and pages read; judged with their stored policy because that listing failed.
    iam_policies: int = 0
    iam_pages: int = 0
    iam_stored: int = 0
    counts: OperationCounts = field(default_factory=OperationCounts)

    @property
    def written(self) -> int:
        return self.created + self.updated


class AssetSnapshotService:
    def __init__(
        self,
        settings: Settings,
        store: ResourceStore,
        status: StatusBoard,
        activity: ActivityFeed,
        scope: str,
        source_name: str,
        force: bool = False,
        constraints: ConstraintSet | None = None,
    ) -> None:
        self._force = force
        # The landing zone's constraints: every listed asset is judged by them, and the verdict
        # is part of its document (a policy change rewrites exactly the assets it affects).
        self._constraints = constraints or ConstraintSet()
        self._settings = settings
        self._store = store
        self._status = status
        self._activity = activity
        self._scope = scope
        self._source_name = source_name
        self._circuit = CircuitPolicy(
            settings.circuit_failure_threshold, settings.circuit_open_seconds
        )
        self._held: HeldLease | None = None

    def run(self, source: AssetSource) -> SnapshotOutcome:
        with bound(layer="assets", scope=self._scope, source=self._source_name):
            started = time.monotonic()
            now = datetime.now(UTC)
            state = self._store.load_state()
            failures = int(state.get("consecutive_failures", 0))
            if self._circuit.state(failures, state.get("last_failure_at"), now) == "open":
                return self._skip_open_circuit(failures, now)
            owner = uuid.uuid4().hex
            seconds = self._settings.sync_lease_seconds
            if not self._store.lease.acquire(owner, seconds):
                raise SyncInProgress(f"assets:{self._scope}")
            # A lease costs a read and a write to take and the same to drop.
            self._store.counts.reads += 2
            self._store.counts.writes += 2
            self._held = HeldLease(self._store.lease, owner, seconds, f"assets:{self._scope}")
            try:
                try:
                    outcome = self._snapshot(source, state)
                except LeaseLost as error:
                    # Another run owns the scope now and writes a newer view: this one stops
                    # where it is and records nothing (no status, no circuit count), like a
                    # run refused as busy. What it wrote is rewritten by the other run where
                    # the listing differs; its manifest, not saved, cannot hide anything.
                    _log.warning("snapshot stopped: lease lost", extra={"error": str(error)})
                    audit("asset_snapshot", outcome="lease_lost", scope=self._scope)
                    return SnapshotOutcome(
                        "lease_lost", error=str(error), counts=self._store.counts
                    )
                except RetryableError as error:
                    # Firestore failed mid-run: what was written stays (the manifest, not saved,
                    # makes the next run rewrite it); nothing was deleted.
                    _log.error("snapshot interrupted", extra={"error": str(error)})
                    outcome = SnapshotOutcome(
                        "partial", error=str(error), counts=self._store.counts
                    )
                except Exception as error:
                    # Whatever broke, the Portal must learn it and the circuit must count it;
                    # nothing was deleted (deletions are the run's last step).
                    _log.exception("snapshot failed")
                    outcome = SnapshotOutcome(
                        "failed",
                        error=f"{type(error).__name__}: {error}",
                        counts=self._store.counts,
                    )
                outcome.duration_seconds = round(time.monotonic() - started, 3)
                self._record(outcome, failures, now)
            finally:
                self._store.lease.release(owner)
            return outcome

    def _snapshot(self, source: AssetSource, state: dict[str, Any]) -> SnapshotOutcome:
        outcome = SnapshotOutcome("complete", counts=self._store.counts)
        listing_started = datetime.now(UTC)
        newer = _NewerChanges(self._store, listing_started - _EVENT_LAG_MARGIN)
        manifest = self._store.load_manifest()
        held_before = len(manifest)
        unseen = set(manifest)
        listed: set[str] = set()
        changed: list[str] = []
        tally = InventoryTally()
        compliance = ComplianceTally()
        turns = ComplianceTurns(self._store, self._activity, self._settings)
        policies = self._list_policies(source, outcome)
        try:
            for page in source.pages():
                outcome.pages += 1
                outcome.read_time = page.read_time or outcome.read_time
                if page.unreadable:
                    # An unreadable entry may be any asset: none may be deleted on this evidence.
                    outcome.invalid += page.unreadable
                    outcome.outcome = "partial"
                    outcome.error = f"{outcome.invalid} unreadable entries (page {page.number})"
                to_write = []
                previous: dict[str, str | None] = {}
                for raw, document in self._judge_page(page.assets, policies, manifest, outcome):
                    if isinstance(document, InvalidPayload):
                        error = document
                        outcome.invalid += 1
                        _log.warning("asset skipped", extra={"error": str(error)})
                        name = raw.get("name")
                        if isinstance(name, str) and error.field != "name":
                            unseen.discard(name)  # present, just unusable: keep what we hold
                        else:
                            outcome.outcome = "partial"
                            outcome.error = f"an asset without a usable name (page {page.number})"
                        continue
                    name = document["name"]
                    if name in listed:
                        continue  # listed twice: the first occurrence counts
                    listed.add(name)
                    outcome.seen += 1
                    unseen.discard(name)
                    tally.add(document)
                    compliance.add(document)
                    held = manifest.get(name)
                    if held == document["content_hash"] and not self._force:
                        outcome.unchanged += 1
                        continue
                    if held is None:
                        outcome.created += 1
                    else:
                        outcome.updated += 1
                    previous[name] = held
                    manifest[name] = document["content_hash"]
                    changed.append(name)
                    to_write.append(document)
                if to_write:
                    newer.refresh()
                kept = []
                for document in to_write:
                    if not newer.supersedes(document):
                        kept.append(document)
                        continue
                    # Firestore holds a newer, event-written version: not overwritten, and not
                    # recorded as written either, so a later run still writes what it lists
                    # once the listing has caught up (an IAM policy the event could not see).
                    outcome.superseded += 1
                    _restore(manifest, document["name"], previous[document["name"]])
                turns.observe(kept, previous)
                self._hold_lease()
                if newer.active:
                    refused_names, raced = self._store.write_unless_superseded(kept)
                else:
                    refused_names, raced = self._store.write(kept), []
                turns.record(refused=set(refused_names) | set(raced))
                for name in raced:
                    # An event committed between the look above and the write: same as above.
                    outcome.superseded += 1
                    _restore(manifest, name, previous[name])
                for refused in refused_names:
                    # Firestore refused this one document: the old version stays, and so does
                    # the manifest's record of it.
                    outcome.invalid += 1
                    outcome.error = f"Firestore refused the document of {refused}"
                    _restore(manifest, refused, previous[refused])
                if outcome.pages % _PROGRESS_EVERY_PAGES == 0:
                    _log.info(
                        "snapshot progress",
                        extra={
                            "pages": outcome.pages,
                            "seen": outcome.seen,
                            "written": outcome.written,
                        },
                    )
        except ListingIncomplete as error:
            outcome.outcome = "partial"
            outcome.error = str(error)
        if policies is not None and not policies.complete:
            outcome.outcome = "partial"
            iam_error = (
                f"IAM policy listing failed ({policies.error}): policies not refreshed, "
                f"{outcome.iam_stored} changed assets judged with their stored policy, "
                "nothing deleted"
            )
            outcome.error = f"{iam_error}; {outcome.error}" if outcome.error else iam_error
        if outcome.outcome == "complete":
            # Assets the real-time layer created or changed since the listing began exist
            # even if the listing missed them.
            self._hold_lease()
            newer.refresh()
            touched = newer.touched_since(listing_started - _EVENT_LAG_MARGIN)
            unseen -= touched
            self._finish_complete(
                outcome, manifest, unseen, held_before, changed, tally, state, touched
            )
            if outcome.outcome == "complete":
                self._save_compliance(compliance, outcome, state)
        self._hold_lease()
        self._store.save_manifest(manifest, changed)
        turns.finish()
        return outcome

    def _hold_lease(self) -> None:
        """Before a write: the scope is still this run's (LeaseLost otherwise)."""
        if self._held is not None and self._held.hold():
            self._store.counts.reads += 1
            self._store.counts.writes += 1

    def _list_policies(self, source: AssetSource, outcome: SnapshotOutcome) -> PolicyIndex | None:
        """The IAM pass, when a loaded constraint reads IAM policies and the source can list
        them (a live listing); None otherwise: assets are judged as the source gives them."""
        policies = policies_for(source, self._constraints.needs_iam)
        if policies is None:
            return None
        outcome.iam_policies = len(policies.policies)
        outcome.iam_pages = policies.pages
        return policies

    def _judge_page(
        self,
        assets: list[dict[str, Any]],
        policies: PolicyIndex | None,
        manifest: dict[str, str],
        outcome: SnapshotOutcome,
    ) -> list[tuple[dict[str, Any], dict[str, Any] | InvalidPayload]]:
        """Each listed asset with its document (or why it has none), judged with its IAM
        policy. After a failed IAM listing, an asset no policy was listed for and whose document
        differs from the stored one is judged again with the stored document's policy: one
        batched read per page for just those assets (none when nothing changed and the stored
        documents hold no policy), so the failure cannot clear a stored IAM violation."""
        judged: list[tuple[dict[str, Any], dict[str, Any] | InvalidPayload]] = []
        unsure: list[int] = []
        for raw in assets:
            asset = policies.attach(raw) if policies is not None else raw
            try:
                document = self._document(asset)
            except InvalidPayload as error:
                judged.append((raw, error))
                continue
            judged.append((raw, document))
            held = manifest.get(document["name"])
            if (
                policies is not None
                and policies.needs_stored(asset)
                and held not in (None, document["content_hash"])
            ):
                unsure.append(len(judged) - 1)
        if not unsure:
            return judged
        names = [str(raw["name"]) for raw, _ in (judged[i] for i in unsure)]
        stored = self._store.stored_policies(names)
        for position, name in zip(unsure, names, strict=True):
            if name in stored:
                raw = judged[position][0]
                judged[position] = (
                    raw,
                    self._document({**raw, "iamPolicy": {"bindings": stored[name]}}),
                )
                outcome.iam_stored += 1
        return judged

    def _document(self, asset: Any) -> dict[str, Any]:
        return resource_document(
            asset, source="snapshot", violations=self._constraints.judge(asset)
        )

    def _finish_complete(
        self,
        outcome: SnapshotOutcome,
        manifest: dict[str, str],
        unseen: set[str],
        held_before: int,
        changed: list[str],
        tally: InventoryTally,
        state: dict[str, Any],
        touched: set[str],
    ) -> None:
        limit = max(
            self._settings.asset_max_delete_share * held_before,
            self._settings.asset_min_delete_allowance,
        )
        if unseen and len(unseen) > limit:
            outcome.outcome = "guarded"
            outcome.would_delete = len(unseen)
            outcome.error = (
                f"refusing to delete {len(unseen)} of {held_before} resources "
                f"(more than {self._settings.asset_max_delete_share:.0%}): check the scope "
                "and the API's answer, then raise LZSYNC_ASSET_MAX_DELETE_SHARE if intended"
            )
            return
        if unseen:
            gone = sorted(unseen)
            self._record_deletions(gone)
            self._store.delete(gone)
            for name in gone:
                del manifest[name]
            changed.extend(gone)
            outcome.deleted = len(gone)
        self._count_as_held(tally, touched)
        inventory = tally.summary()
        outcome.inventory_hash = inventory["summary_hash"]
        if inventory["summary_hash"] != state.get("inventory_hash"):
            self._store.save_inventory({**inventory, "read_time": outcome.read_time})

    def _count_as_held(self, tally: InventoryTally, touched: set[str]) -> None:
        """Count the assets the real-time layer changed during the listing as Firestore holds
        them now (read back: reads ∝ those changes), not as the listing saw them.

        Why: the inventory written below replaces the counters events moved meanwhile. Counted
        as listed, an asset an event deleted mid-listing would still be counted and one an
        event created would be missing, until a later snapshot whose tally differs. (An event
        committed between this read and the inventory write can still be counted twice or
        not at all, for the few milliseconds between its commit and its counter increment;
        the next snapshot whose recount differs rewrites the inventory.)"""
        if not touched:
            return
        names = sorted(touched)
        held = {document["name"]: document for document in self._store.read(names)}
        for name in names:
            tally.replace(name, held.get(name))

    def _save_compliance(
        self, compliance: ComplianceTally, outcome: SnapshotOutcome, state: dict[str, Any]
    ) -> None:
        """``compliance/summary`` for the whole estate, written only when it changed."""
        constraints = self._constraints
        summary = compliance.summary(
            constraints.described(),
            constraints.not_evaluated,
            list(constraints.invalid),
            constraints.commit,
        )
        outcome.compliance_hash = summary["summary_hash"]
        if summary["summary_hash"] != state.get("compliance_hash"):
            self._store.save_compliance({**summary, "read_time": outcome.read_time})

    def _record_deletions(self, names: list[str]) -> None:
        """One activity entry per deleted asset, up to a cap (reads ∝ deletions)."""
        listed = names[: self._settings.asset_activity_max_entries]
        for document in self._store.read(listed):
            self._activity.record(
                f"assets:deleted:{document['name']}:{document.get('content_hash')}",
                {
                    "layer": "assets",
                    "kind": "deleted",
                    "asset": document["name"],
                    "asset_type": document.get("asset_type"),
                    "project": document.get("project_id") or document.get("project"),
                    "summary": f"{document.get('display_name')} no longer in the inventory",
                    "source": "snapshot",
                },
            )
            self._store.counts.writes += 1

    def _record(self, outcome: SnapshotOutcome, failures: int, now: datetime) -> None:
        complete = outcome.outcome == "complete"
        if complete:
            failures = 0
        elif outcome.outcome in {"partial", "failed"}:
            failures += 1
        threshold = self._settings.circuit_failure_threshold
        state = "ok" if complete else ("failing" if failures >= threshold else "degraded")
        state_fields: dict[str, Any] = {"consecutive_failures": failures}
        if complete:
            state_fields.update(
                last_success=now,
                last_failure_at=None,
                inventory_hash=outcome.inventory_hash,
                compliance_hash=outcome.compliance_hash,
            )
        elif outcome.outcome in {"partial", "failed"}:
            state_fields["last_failure_at"] = now
        fields: dict[str, Any] = {
            "state": state,
            "last_attempt": now,
            "last_outcome": outcome.outcome,
            "scope": self._scope,
            "source": self._source_name,
            "read_time": outcome.read_time,
            "counts": {
                "seen": outcome.seen,
                "written": outcome.written,
                "created": outcome.created,
                "updated": outcome.updated,
                "deleted": outcome.deleted,
                "unchanged": outcome.unchanged,
                "invalid": outcome.invalid,
                "superseded": outcome.superseded,
                "iam_policies": outcome.iam_policies,
                "iam_stored": outcome.iam_stored,
            },
            "pages": outcome.pages,
            "duration_seconds": outcome.duration_seconds,
            "partial": outcome.outcome == "partial",
            "guard": {
                "tripped": outcome.outcome == "guarded",
                "would_delete": outcome.would_delete,
            },
            "last_error": ({"message": outcome.error, "at": now} if outcome.error else None),
            "circuit": {
                "state": "open" if failures >= threshold else "closed",
                "consecutive_failures": failures,
            },
            "expected_interval_seconds": self._settings.asset_expected_interval_seconds,
        }
        if complete:
            fields["last_success"] = now
        self._store.save_state(state_fields)
        outcome.counts.writes += 1  # the status write below
        fields["firestore_ops"] = {"reads": outcome.counts.reads, "writes": outcome.counts.writes}
        self._status.update("assets", fields, increments={f"runs_{outcome.outcome}": 1})
        audit(
            "asset_snapshot",
            outcome=outcome.outcome,
            scope=self._scope,
            seen=outcome.seen,
            written=outcome.written,
            deleted=outcome.deleted,
            firestore_reads=outcome.counts.reads,
            firestore_writes=outcome.counts.writes,
        )

    def _skip_open_circuit(self, failures: int, now: datetime) -> SnapshotOutcome:
        self._status.update(
            "assets",
            {
                "state": "failing",
                "last_attempt": now,
                "last_outcome": "skipped_circuit_open",
                "circuit": {"state": "open", "consecutive_failures": failures},
            },
            increments={"runs_skipped_circuit_open": 1},
        )
        audit("asset_snapshot", outcome="skipped_circuit_open", scope=self._scope)
        return SnapshotOutcome("skipped_circuit_open", counts=self._store.counts)


def _restore(manifest: dict[str, str], name: str, prior: str | None) -> None:
    """Put back the manifest's record of an asset whose listed version was not written."""
    if prior is None:
        manifest.pop(name, None)
    else:
        manifest[name] = prior
