from lzsync.logic.inventory import InventoryTally


def doc(name: str, asset_type: str = "t/A", project: str = "p1", location: str = "eu") -> dict:
    return {"name": name, "asset_type": asset_type, "project_id": project, "location": location}


def test_replacing_an_asset_moves_its_counts_and_none_removes_them():
    tally = InventoryTally()
    tally.add(doc("a"))
    tally.add(doc("b"))
    tally.replace("a", doc("a", asset_type="t/B", location="us"))
    tally.replace("b", None)
    tally.replace("c", doc("c"))  # created by an event, not listed

    summary = tally.summary()
    assert summary["total"] == 2
    assert summary["by_type"] == {"t/A": 1, "t/B": 1}
    assert summary["by_location"] == {"eu": 1, "us": 1}
    assert summary["by_project"] == {"p1": 2}


def test_the_summary_hash_does_not_depend_on_how_the_counts_were_reached():
    direct, moved = InventoryTally(), InventoryTally()
    direct.add(doc("a"))
    moved.add(doc("a", asset_type="t/B"))
    moved.add(doc("z"))
    moved.replace("a", doc("a"))
    moved.replace("z", None)
    assert moved.summary() == direct.summary()
