"""The whole compliance path on a simulated landing zone of 10,000 assets with known defects:
the snapshot judges every asset by the landing zone's 28 constraints and ``compliance/summary``
holds the oracle's counts; then a round of real-time changes leaves each changed asset judged
as the oracle says, IAM policies included (resource feeds carry none: the stored one stands).
"""

from __future__ import annotations

from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.simulator import Simulator
from tests.compliance_oracle import IAM_DEFECTS, VIOLATES, expected_estate, expected_violations
from tests.helpers import publish_policies, snapshot_of

ESTATE = Simulator(size=10_000, seed=17, defect_share=0.3, update_share=0.02)


def test_a_10000_asset_snapshot_reports_the_oracles_compliance_then_events_keep_it(
    db, deliver, constraint_files
):
    publish_policies(db, constraint_files, "c1")
    expected = expected_estate(ESTATE)

    outcome = snapshot_of(ESTATE)

    assert outcome.outcome == "complete", outcome.error
    summary = db.collection("compliance").document("summary").get().to_dict()
    assert summary["assets_judged"] == expected.assets == 10_000
    assert summary["violating_assets"] == expected.violating_assets
    assert {name: entry["violations"] for name, entry in summary["by_constraint"].items()} == {
        name: expected.by_constraint[name] for name in summary["by_constraint"]
    }
    assert len(summary["by_constraint"]) == 28
    assert all(entry["violations"] > 0 for entry in summary["by_constraint"].values())
    assert summary["violations"] == sum(expected.by_constraint.values())
    assert sum(summary["by_project"].values()) == summary["violations"]
    assert summary["compliant_share"] == round(1 - expected.violating_assets / 10_000, 4)

    changes = list(ESTATE.changes(0, 1))
    assert len(changes) > 100
    for change in changes:
        assert deliver(change) < 300

    turned = 0
    for index in range(ESTATE.slots(1)):
        before = ESTATE.asset_at(index, 0) if index < ESTATE.slots(0) else None
        after = ESTATE.asset_at(index, 1)
        if after is None or before == after:
            continue
        stored = db.collection("resources").document(resource_id(after["name"])).get().to_dict()
        was = ESTATE.defect_at(index, 0) if before is not None else None
        now = ESTATE.defect_at(index, 1)
        # The event shows the new resource; its IAM policy is the one the snapshot listed.
        wanted = expected_violations(after["assetType"], None if now in IAM_DEFECTS else now)
        if was in IAM_DEFECTS:
            wanted |= VIOLATES[was]
        assert {v["constraint"] for v in stored["violations"]} == wanted, after["name"]
        turned += was != now
    assert turned > 10, "the round must turn some assets compliant or non-compliant"
