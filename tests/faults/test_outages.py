"""Outages: Firestore or Pub/Sub partitioned from lzsync in the middle of a run, healed on the
same port (``FaultProxy``; the emulators behind keep their data), then the run retried as
production retries it. The final state must equal what an independent oracle computes (the git
CLI for documents, the simulator's version for assets), with every change applied exactly once,
and ``sync_status`` must have said that the run failed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters import batches, clients
from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.landing_zone import REPO_NAME, move_branch
from lzsync.devtools.simulator import Simulator
from lzsync.errors import UpstreamUnavailable
from lzsync.logic import docids
from lzsync.logic.asset_normalize import resource_document
from lzsync.model.sync_request import SyncRequest
from lzsync.services.asset_snapshot_http import run_snapshot
from lzsync.services.git_sync import GitSyncService
from lzsync.settings import RepoConfig, Settings
from tests.conftest import PROJECT_ID
from tests.faults.conftest import Partitionable
from tests.faults.faults import compress_retries, partition_after, wait_until_reachable
from tests.oracle import assert_documents_match_tree, classified_tree, stored_documents

# Firestore calls give up after this long instead of the client's 60 s: an outage longer than
# it fails the run, as a long outage does in production, within the test's budget.
CALL_DEADLINE_SECONDS = 3.0
# Smaller batches than Firestore's 500 so a run has many commits to be interrupted between.
BATCH_WRITES = 40
# Long enough to outlive the failed run (three calls giving up), short enough to wait out.
LEASE_SECONDS = 20


@pytest.fixture
def firestore_calls(pdb: firestore.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warm the emulator (a cold first call can take seconds), then compress the deadlines of
    both clients in play: the test's and the cached one the functions' code uses."""
    monkeypatch.setattr(batches, "MAX_BATCH_WRITES", BATCH_WRITES)
    pdb.collection("_warmup").document("w").set({"at": firestore.SERVER_TIMESTAMP})
    compress_retries(pdb, CALL_DEADLINE_SECONDS)
    compress_retries(clients.firestore_client(PROJECT_ID), CALL_DEADLINE_SECONDS)


# --- git sync ----------------------------------------------------------------------------------


def git_service(db: firestore.Client, tmp_path: Path, remote: Path, **overrides: Any):
    settings = Settings(
        _env_file=None,
        project_id=PROJECT_ID,
        repos=(RepoConfig(name=REPO_NAME, url=str(remote)),),
        git_cache_dir=tmp_path / "git-cache",
        git_fetch_attempts=1,
        git_fetch_backoff_seconds=0,
        **overrides,
    )
    names = Collections()
    return GitSyncService(
        settings,
        db,
        StatusBoard(db, names.sync_status),
        ActivityFeed(db, names.activity, settings.activity_ttl_days),
    )


def request() -> SyncRequest:
    return SyncRequest(trigger="webhook", repo=REPO_NAME)


def git_activity(db: firestore.Client) -> dict[str, dict[str, Any]]:
    query = db.collection("activity").where(filter=FieldFilter("layer", "==", "git"))
    return {snap.get("commit"): snap.to_dict() for snap in query.stream()}


def git_changes(remote: Path, old: str, new: str) -> dict[str, int]:
    before, after = classified_tree(remote, old), classified_tree(remote, new)
    return {
        "added": len(set(after) - set(before)),
        "modified": sum(1 for p in after if p in before and before[p] != after[p]),
        "removed": len(set(before) - set(after)),
    }


def assert_every_document_is_whole(db: firestore.Client, remote: Path, *commits: str) -> None:
    """Each stored document is entirely one commit's version of its file, never a mix."""
    trees = [classified_tree(remote, commit) for commit in commits]
    for path, document in stored_documents(db).items():
        versions = [tree[path] for tree in trees if path in tree]
        assert (document["blob_sha"], document["kind"]) in versions, path
        assert document["commit_sha"] in commits, path


def test_git_sync_cut_off_from_firestore_mid_write_reports_it_and_its_retry_converges(
    partitionable: Partitionable,
    pdb,
    firestore_calls,
    monkeypatch,
    tmp_path,
    remote,
    landing_zone_history,
):
    old, head = landing_zone_history[40].sha, landing_zone_history[-1].sha
    move_branch(remote, old)
    service = git_service(pdb, tmp_path, remote)
    service.handle(request())
    move_branch(remote, head)
    changes = git_changes(remote, old, head)
    total = sum(changes.values())
    assert total > 3 * BATCH_WRITES, "the change must span several batches"

    with (
        partition_after(
            monkeypatch, partitionable.firestore, BATCH_WRITES + 1, heal_when_a_commit_gives_up=True
        ) as partition,
        pytest.raises(UpstreamUnavailable),
    ):
        service.handle(request())
    assert partition.cut_at is not None
    assert partition.healed_at is not None

    # Right after the failed run: the Portal is told, and still reads whole documents.
    status = pdb.collection("sync_status").document("git").get().to_dict()
    assert (status["state"], status["last_outcome"]) == ("degraded", "failed")
    assert status["last_error"]["type"] == "UpstreamUnavailable"
    assert status["last_commit"] == old
    assert_every_document_is_whole(pdb, remote, old, head)
    assert head not in git_activity(pdb)

    # Pub/Sub redelivers the request (Scheduler's next run would do the same).
    [outcome] = service.handle(request())

    assert outcome.outcome == "synced"
    assert_documents_match_tree(pdb, remote, head)
    activity = git_activity(pdb)
    assert sorted(activity) == sorted([old, head])
    counted = activity[head]["counts"]
    assert {key: counted[key] for key in changes} == changes
    status = pdb.collection("sync_status").document("git").get().to_dict()
    assert (status["state"], status["last_commit"], status["last_error"]) == ("ok", head, None)
    assert status["counters"] == {"runs": 2, "failures": 1}


def test_git_sync_outlasted_by_a_firestore_outage_is_retried_after_its_lease_expires(
    partitionable: Partitionable,
    pdb,
    firestore_calls,
    monkeypatch,
    tmp_path,
    remote,
    landing_zone_history,
):
    """While Firestore is down nothing can be recorded in it, the status included, and the
    run's lease cannot be released: redeliveries are refused until the lease expires, then the
    first one converges. The outage is visible to the Portal only as the status not moving on;
    freshness_check turns that into an alert. (Whether a redelivery still meets the lease
    depends on timing, so the test checks the lease itself.)"""
    old, head = landing_zone_history[200].sha, landing_zone_history[-1].sha
    move_branch(remote, old)
    service = git_service(pdb, tmp_path, remote, sync_lease_seconds=LEASE_SECONDS)
    service.handle(request())
    move_branch(remote, head)

    with partition_after(monkeypatch, partitionable.firestore, 1) as partition:
        with pytest.raises(UpstreamUnavailable):
            service.handle(request())
        partition.heal()
    wait_until_reachable(pdb)

    status = pdb.collection("sync_status").document("git").get().to_dict()
    assert (status["state"], status["last_commit"]) == ("ok", old)
    lease = pdb.collection("_locks").document(docids.encode(f"git:{REPO_NAME}"))
    assert lease.get().exists, "the failed run could not drop its lease"
    _wait_until_gone_or_expired(pdb, lease)

    [outcome] = service.handle(request())

    assert outcome.outcome == "synced"
    assert_documents_match_tree(pdb, remote, head)
    assert sorted(git_activity(pdb)) == sorted([old, head])


def _wait_until_gone_or_expired(db: firestore.Client, ref: Any) -> None:
    for _ in range(200):
        held = ref.get().to_dict()
        if not held or held["expires_at"] <= datetime.now(UTC):
            return
        time.sleep(0.1)
    raise AssertionError(f"lease never expired: {held}")


# --- asset snapshot ----------------------------------------------------------------------------


def estate(simulator: Simulator, version: int) -> dict[str, str]:
    return {
        asset["name"]: resource_document(asset, source="snapshot")["content_hash"]
        for asset in simulator.assets(version)
    }


def stored_estate(db: firestore.Client) -> dict[str, str]:
    return {
        snap.get("name"): snap.get("content_hash")
        for snap in db.collection("resources").select(["name", "content_hash"]).stream()
    }


def test_a_snapshot_cut_off_from_firestore_is_partial_and_the_next_run_converges(
    partitionable: Partitionable, pdb, firestore_calls, monkeypatch
):
    simulator = Simulator(size=600, seed=21, update_share=0.15, delete_share=0.05)
    server = AssetServer(simulator).start()
    try:
        settings = settings_for(server, PROJECT_ID, asset_manifest_shards=8)
        assert run_snapshot(settings).outcome == "complete"
        server.version = 2
        with partition_after(
            monkeypatch, partitionable.firestore, BATCH_WRITES, heal_when_a_commit_gives_up=True
        ):
            interrupted = run_snapshot(settings)

        assert interrupted.outcome == "partial"
        status = pdb.collection("sync_status").document("assets").get().to_dict()
        assert (status["state"], status["last_outcome"]) == ("degraded", "partial")
        assert status["last_error"]
        # Nothing is deleted by an interrupted run: every asset of version 0 is still there.
        assert set(estate(simulator, 0)) <= set(stored_estate(pdb))

        outcome = run_snapshot(settings)  # Cloud Scheduler's next run
    finally:
        server.stop()

    assert outcome.outcome == "complete"
    expected = estate(simulator, 2)
    assert stored_estate(pdb) == expected
    inventory = pdb.collection("inventory").document("assets").get().to_dict()
    assert inventory["total"] == len(expected)
    assert sum(inventory["by_type"].values()) == len(expected)
    status = pdb.collection("sync_status").document("assets").get().to_dict()
    assert (status["state"], status["last_outcome"]) == ("ok", "complete")
