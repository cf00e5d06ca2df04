import json

import pytest

from lzsync.errors import InvalidPayload
from lzsync.logic.asset_normalize import resource_document
from tests.helpers import FORMATS_DIR, load_format


def export_lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (FORMATS_DIR / "cai" / name).read_text().splitlines()]


def test_a_feed_subnetwork_becomes_a_portal_document():
    asset = load_format("cai/psvc_vpc-flowlogs-enforcer_feed_asset_inventory.json")["asset"]

    document = resource_document(asset, source="event")

    assert document["asset_type"] == "compute.googleapis.com/Subnetwork"
    assert document["display_name"] == "dummy"
    assert document["project"] == "projects/717196263256"
    assert document["project_id"] == "apszaz-shsvc-services-5af0da"
    assert document["folders"] == ["folders/1094373516899", "folders/273647969471"]
    assert document["organization"] == "organizations/116143322321"
    assert document["location"] == "asia-east1"
    assert document["data"]["ip_cidr_range"] == "10.0.7.0/24"
    assert document["data"]["network"] == "dummy"
    assert document["data"]["flow_logs"] is True
    assert document["source"] == "event"
    assert len(document["content_hash"]) == 16


def test_an_older_snake_case_export_line_normalises_to_the_same_shape():
    firewall, instance, *_ = export_lines("psvc_asset-inventory_resource.json.ndjson")

    document = resource_document(firewall, source="snapshot")

    assert document["asset_type"] == "compute.googleapis.com/Firewall"
    assert document["data"]["direction"] == "INGRESS"
    assert document["data"]["source_ranges"] == ["10.128.0.0/9"]
    assert document["create_time"] == "2018-11-01T06:48:22.684-07:00"
    assert resource_document(instance, source="snapshot")["asset_type"] == (
        "compute.googleapis.com/Instance"
    )


def test_camel_and_snake_spellings_of_one_asset_hash_the_same():
    camel = {
        "name": "//storage.googleapis.com/b1",
        "assetType": "storage.googleapis.com/Bucket",
        "updateTime": "2025-01-01T00:00:00Z",
        "resource": {"data": {"name": "b1", "location": "EU"}},
    }
    snake = {
        "name": "//storage.googleapis.com/b1",
        "asset_type": "storage.googleapis.com/Bucket",
        "update_time": "2025-01-01T00:00:00Z",
        "resource": {"data": {"name": "b1", "location": "EU"}},
    }
    assert resource_document(camel, source="snapshot") == resource_document(
        snake, source="snapshot"
    )


def test_any_portal_visible_change_changes_the_hash():
    base = load_format("cai/mia_feed_bucket-create.json")["asset"]
    changed = json.loads(json.dumps(base))
    changed["resource"]["data"]["labels"]["label1"] = "other"

    assert (
        resource_document(base, source="snapshot")["content_hash"]
        != resource_document(changed, source="snapshot")["content_hash"]
    )


def test_the_source_does_not_change_the_hash():
    asset = load_format("cai/mia_feed_network-create.json")["asset"]
    assert (
        resource_document(asset, source="event")["content_hash"]
        == resource_document(asset, source="snapshot")["content_hash"]
    )


@pytest.mark.parametrize(
    ("asset", "field"),
    [
        ({"assetType": "x"}, "name"),
        ({"name": "", "assetType": "x"}, "name"),
        ({"name": "//x/y"}, "assetType"),
    ],
)
def test_an_asset_without_name_or_type_is_invalid(asset, field):
    with pytest.raises(InvalidPayload) as raised:
        resource_document(asset, source="snapshot")
    assert raised.value.field == field


def test_odd_data_shapes_never_crash():
    asset = {
        "name": "//compute.googleapis.com/projects/p/zones/z/instances/vm",
        "assetType": "compute.googleapis.com/Instance",
        "resource": {"data": {"networkInterfaces": "not-a-list", "labels": ["x"], "disks": 3}},
    }
    document = resource_document(asset, source="snapshot")
    assert document["labels"] == {}
    assert "disk_count" not in document["data"]
