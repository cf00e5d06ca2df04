"""Compliance wired into the layers, against the Firestore emulator: the landing zone's own 28
constraints (as git sync leaves them in ``documents``) judge the snapshot's assets and each
real-time change; a policy change in the repository re-judges exactly the assets it affects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.simulator import Simulator
from lzsync.services.asset_snapshot_http import run_snapshot
from tests.conftest import PROJECT_ID
from tests.helpers import publish_policies

SIM = Simulator(size=600, seed=21, defect_share=0.2)
SSH_RULE = "restrict-firewall-rule-ssh-world-open"


@pytest.fixture
def server():
    server = AssetServer(SIM).start()
    yield server
    server.stop()


def judged(db) -> dict[str, list]:
    return {
        snap.get("name"): snap.to_dict().get("violations")
        for snap in db.collection("resources").stream()
    }


def test_the_snapshot_judges_every_asset_and_a_policy_change_rejudges_only_its_assets(
    db, server, constraint_files, monkeypatch
):
    from lzsync.adapters import constraint_store

    monkeypatch.setattr(constraint_store, "_STORES", {})
    publish_policies(db, constraint_files, "c1")
    settings = settings_for(server, PROJECT_ID)

    first = run_snapshot(settings)

    documents = judged(db)
    assert first.outcome == "complete"
    assert all(violations is not None for violations in documents.values())
    summary = db.collection("compliance").document("summary").get().to_dict()
    assert summary["assets_judged"] == len(documents)
    assert summary["violating_assets"] == sum(1 for v in documents.values() if v)
    assert summary["violations"] == sum(len(v) for v in documents.values())
    assert len(summary["by_constraint"]) == len(constraint_files)
    assert summary["not_evaluated"] == []
    assert summary["invalid_constraints"] == []
    assert summary["constraints_commit"] == "c1"
    by_rule = {
        name: sum(1 for v in documents.values() for x in v if x["constraint"] == name)
        for name in summary["by_constraint"]
    }
    assert {n: c["violations"] for n, c in summary["by_constraint"].items()} == by_rule
    busiest = max(by_rule, key=by_rule.get)
    assert by_rule[busiest] > 0, "the simulated estate violates at least one constraint"

    # The repository drops the constraint with the most violations.
    dropped = next(path for path, text in constraint_files.items() if f"name: {busiest}" in text)
    publish_policies(db, {p: t for p, t in constraint_files.items() if p != dropped}, "c2")
    monkeypatch.setattr(constraint_store, "_STORES", {})  # a new instance, or a minute later

    second = run_snapshot(settings)

    affected = sum(1 for v in documents.values() if v and {x["constraint"] for x in v} & {busiest})
    assert second.updated == affected
    assert busiest not in db.collection("compliance").document("summary").get().get("by_constraint")
    assert all(busiest not in {x["constraint"] for x in v} for v in judged(db).values())
    # Assets whose only offence was the dropped constraint are compliant again, and say so.
    cleared = {
        name for name, v in documents.items() if v and {x["constraint"] for x in v} == {busiest}
    }
    assert cleared, "the busiest constraint is some asset's only violation"
    assert {name for name, kind in snapshot_turns(db) if kind == "compliant"} == cleared

    # Put it back with a cap of 2 entries per run: 2 entries and one for the rest.
    publish_policies(db, constraint_files, "c3")
    monkeypatch.setattr(constraint_store, "_STORES", {})
    run_snapshot(settings.model_copy(update={"asset_activity_max_entries": 2}))
    turned_again = [name for name, kind in snapshot_turns(db) if kind == "non_compliant"]
    assert len(turned_again) == 2
    overflow = [
        snap.to_dict()
        for snap in db.collection("activity").stream()
        if snap.get("kind") == "compliance_turns"
    ]
    assert [entry["count"] for entry in overflow] == [len(cleared) - 2]


def snapshot_turns(db) -> list[tuple[str, str]]:
    return [
        (snap.get("asset"), snap.get("kind"))
        for snap in db.collection("activity").stream()
        if snap.get("source") == "snapshot" and snap.get("kind") in ("compliant", "non_compliant")
    ]


def _firewall(open_to_world: bool, when: datetime) -> dict:
    text = when.isoformat().replace("+00:00", "Z")
    name = "//compute.googleapis.com/projects/prj-p-svpc/global/firewalls/fw-allow-ssh"
    return {
        "asset": {
            "name": name,
            "assetType": "compute.googleapis.com/Firewall",
            "ancestors": ["projects/123", "folders/4", "organizations/5"],
            "updateTime": text,
            "resource": {
                "version": "v1",
                "discoveryName": "Firewall",
                "location": "global",
                "data": {
                    "name": "fw-allow-ssh",
                    "direction": "INGRESS",
                    "disabled": False,
                    "network": "projects/prj-p-svpc/global/networks/vpc-p-svpc",
                    "sourceRanges": ["0.0.0.0/0"] if open_to_world else ["35.235.240.0/20"],
                    "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
                },
            },
        },
        "priorAssetState": "PRESENT",
        "window": {"startTime": text},
    }


def test_a_world_open_firewall_rule_is_flagged_the_moment_its_event_arrives(db, deliver):
    now = datetime.now(UTC)
    assert deliver(_firewall(True, now)) < 300
    name = _firewall(True, now)["asset"]["name"]
    stored = db.collection("resources").document(resource_id(name)).get().to_dict()
    assert stored["compliant"] is False
    assert SSH_RULE in {v["constraint"] for v in stored["violations"]}

    assert deliver(_firewall(False, now + timedelta(seconds=5))) < 300
    fixed = db.collection("resources").document(resource_id(name)).get().to_dict()
    assert SSH_RULE not in {v["constraint"] for v in fixed["violations"]}

    kinds = {
        (snap.get("kind"), snap.get("summary").split(" ")[0])
        for snap in db.collection("activity").stream()
        if snap.get("kind") in ("non_compliant", "compliant")
    }
    assert ("non_compliant", "violates") in kinds
    if not fixed["violations"]:
        assert ("compliant", "no") in kinds
