"""Crashes: the function's process dies after N Firestore writes (every commit from then on
fails, as nothing of a dead process reaches Firestore), then the platform's retry runs a fresh
instance. The retry must converge to exactly the state an independent oracle computes."""

from __future__ import annotations

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters import batches
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.landing_zone import REPO_NAME, move_branch
from lzsync.devtools.simulator import Simulator
from lzsync.logic import docids
from lzsync.services.asset_snapshot_http import run_snapshot
from tests.conftest import PROJECT_ID
from tests.faults.faults import InjectedCrash, crash_after
from tests.faults.test_outages import (
    BATCH_WRITES,
    estate,
    git_activity,
    git_changes,
    git_service,
    request,
    stored_estate,
)
from tests.oracle import assert_documents_match_tree


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "MAX_BATCH_WRITES", BATCH_WRITES)


@pytest.mark.parametrize("after_writes", [0, BATCH_WRITES * 2 + 7])
def test_git_sync_crashing_mid_batch_converges_on_redelivery(
    db, monkeypatch, tmp_path, remote, landing_zone_history, after_writes
):
    old, head = landing_zone_history[40].sha, landing_zone_history[-1].sha
    move_branch(remote, old)
    git_service(db, tmp_path, remote).handle(request())
    move_branch(remote, head)

    with crash_after(monkeypatch, after_writes) as crash, pytest.raises(InjectedCrash):
        git_service(db, tmp_path, remote).handle(request())
    assert crash.landed <= after_writes
    assert crash.tripped

    # The lease of the dead run is still held: the redelivery comes after it expired.
    db.collection("_locks").document(docids.encode(f"git:{REPO_NAME}")).delete()
    [outcome] = git_service(db, tmp_path / "fresh-instance", remote).handle(request())

    assert outcome.outcome == "synced"
    assert_documents_match_tree(db, remote, head)
    activity = git_activity(db)
    assert sorted(activity) == sorted([old, head])
    changes = git_changes(remote, old, head)
    assert {key: activity[head]["counts"][key] for key in changes} == changes


@pytest.mark.parametrize("after_writes", [5, BATCH_WRITES + 3])
def test_a_snapshot_crashing_mid_batch_converges_on_the_next_run(db, monkeypatch, after_writes):
    simulator = Simulator(size=600, seed=23, update_share=0.15, delete_share=0.05)
    server = AssetServer(simulator).start()
    try:
        settings = settings_for(server, PROJECT_ID, asset_manifest_shards=8)
        assert run_snapshot(settings).outcome == "complete"
        server.version = 2
        with crash_after(monkeypatch, after_writes), pytest.raises(InjectedCrash):
            run_snapshot(settings)
        for lease in db.collection("_locks").list_documents():  # expired by the next run
            lease.delete()
        outcome = run_snapshot(settings)
    finally:
        server.stop()

    assert outcome.outcome == "complete"
    expected = estate(simulator, 2)
    assert stored_estate(db) == expected
    inventory = db.collection("inventory").document("assets").get().to_dict()
    assert inventory["total"] == len(expected)
    deleted = db.collection("activity").where(filter=FieldFilter("kind", "==", "deleted")).get()
    assert len(deleted) == len(set(estate(simulator, 0)) - set(expected))
