from collections import Counter

from lzsync.devtools.simulator import WORKLOAD_SLOTS, Simulator
from lzsync.logic import asset_types
from lzsync.logic.asset_normalize import resource_document


def test_the_same_seed_gives_the_same_estate():
    assert list(Simulator(300, seed=3).assets()) == list(Simulator(300, seed=3).assets())
    assert list(Simulator(300, seed=3).assets()) != list(Simulator(300, seed=4).assets())


def test_the_estate_has_the_requested_size_and_unique_names():
    assets = list(Simulator(2_500).assets())
    assert len(assets) == 2_500
    assert len({asset["name"] for asset in assets}) == 2_500


def test_the_estate_is_shaped_like_a_foundation():
    assets = list(Simulator(1_000).assets())
    types = Counter(asset["assetType"] for asset in assets)
    assert types[asset_types.ORGANIZATION] == 1
    assert types[asset_types.FOLDER] == 6
    assert types[asset_types.NETWORK] == 3  # one shared VPC per environment
    assert {asset_types.INSTANCE, asset_types.CLUSTER, asset_types.BUCKET} <= types.keys()
    assert set(types) <= set(asset_types.DEFAULT_SNAPSHOT_TYPES)
    project_ids = {resource_document(a, source="snapshot")["project_id"] for a in assets}
    assert any(pid and pid.startswith("prj-b-seed") for pid in project_ids)
    assert any(pid and pid.startswith("prj-p-svpc") for pid in project_ids)


def test_every_asset_normalises_with_its_type_summary():
    for asset in Simulator(500).assets():
        document = resource_document(asset, source="snapshot")
        assert document["organization"] is not None
        if asset["assetType"] == asset_types.INSTANCE:
            assert document["data"]["machine_type"].startswith("e2-standard-")


def test_a_million_asset_estate_is_addressable_without_generating_it():
    simulator = Simulator(1_000_000)
    assert simulator.slots() == 1_000_000
    last = simulator.asset_at(999_999)
    assert last is not None
    assert last["assetType"] in WORKLOAD_SLOTS


def test_changes_between_versions_match_the_two_estates():
    simulator = Simulator(3_000)
    before = {a["name"]: a for a in simulator.assets(0)}
    after = {a["name"]: a for a in simulator.assets(2)}

    changes = list(simulator.changes(0, 2))

    deleted = {c["asset"]["name"] for c in changes if c.get("deleted")}
    created = {c["asset"]["name"] for c in changes if c["priorAssetState"] == "DOES_NOT_EXIST"}
    updated = {c["asset"]["name"] for c in changes} - deleted - created
    assert deleted == before.keys() - after.keys()
    assert created == after.keys() - before.keys()
    assert updated == {n for n in before.keys() & after.keys() if before[n] != after[n]}
    assert deleted
    assert created
    assert updated
