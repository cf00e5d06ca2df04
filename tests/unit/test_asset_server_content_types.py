"""The local ListAssets server answers both content types as CAI does, through the real
google-cloud-asset client (REST, loopback): RESOURCE never carries a policy, IAM_POLICY lists
only assets with one, and each listing has its own injectable faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.request import urlopen

import pytest
from google.cloud import asset_v1

from lzsync.adapters.asset_sources import ListingIncomplete, ListingSource, listing_client
from lzsync.devtools.asset_server import AssetServer
from lzsync.devtools.simulator import Simulator
from lzsync.logic.rate_limit import RequestPacer
from lzsync.settings import Settings

SIM = Simulator(size=300, seed=5)
POLICY = {
    "version": 1,
    "etag": "BwX=",
    "bindings": [{"role": "roles/viewer", "members": ["allUsers"]}],
}


class Policed:
    """Every fifth simulated asset carries an IAM policy."""

    organization = SIM.organization

    def slots(self, version: int = 0) -> int:
        return SIM.slots(version)

    def asset_at(self, index: int, version: int = 0) -> dict[str, Any] | None:
        asset = SIM.asset_at(index, version)
        if asset is not None and index % 5 == 0:
            asset = {**asset, "iamPolicy": POLICY}
        return asset


@pytest.fixture
def server() -> Iterator[AssetServer]:
    running = AssetServer(Policed(), port=0).start()  # type: ignore[arg-type]
    yield running
    running.stop()


def listing(
    server: AssetServer, content_type: int = asset_v1.ContentType.RESOURCE
) -> ListingSource:
    return ListingSource(
        client=listing_client(server.endpoint),
        scope=SIM.organization,
        asset_types=Settings(_env_file=None).asset_types,
        page_size=100,
        pacer=RequestPacer(600_000),
        retry_schedule_seconds=(0.01,),
        content_type=content_type,
    )


def listed(source: ListingSource) -> list[dict[str, Any]]:
    return [asset for page in source.pages() for asset in page.assets]


def test_a_resource_listing_never_carries_a_policy(server):
    assets = listed(listing(server))

    assert len(assets) == len(list(SIM.assets()))
    assert all("iamPolicy" not in asset and "resource" in asset for asset in assets)
    assert all("contentType=1" in path for path in server.requests)


def test_an_iam_policy_listing_returns_only_assets_with_a_policy_shaped_as_cai(server):
    source = listing(server).with_content_type(asset_v1.ContentType.IAM_POLICY)

    assets = listed(source)

    expected = [
        a["name"] for i in range(SIM.slots()) if (a := Policed().asset_at(i)) and i % 5 == 0
    ]
    assert [asset["name"] for asset in assets] == expected
    assert {frozenset(asset) for asset in assets} == {
        frozenset({"name", "assetType", "ancestors", "updateTime", "iamPolicy"})
    }
    assert assets[0]["iamPolicy"]["bindings"] == POLICY["bindings"]
    assert all("contentType=2" in path for path in server.requests)


def test_the_content_type_may_be_sent_by_name_and_an_unknown_one_is_refused(server):
    base = f"{server.endpoint}/v1/{SIM.organization}/assets?pageSize=1000"

    with urlopen(f"{base}&contentType=IAM_POLICY") as answer:  # noqa: S310 - loopback
        by_name = json.load(answer)
    with urlopen(f"{base}&contentType=2") as answer:  # noqa: S310 - loopback
        by_number = json.load(answer)
    assert by_name["assets"] == by_number["assets"] != []
    with pytest.raises(Exception, match="400"):
        urlopen(f"{base}&contentType=ORG_POLICY")  # noqa: S310 - loopback


def test_iam_faults_fail_only_the_iam_listing(server):
    server.iam_faults[0] = [503, 503]
    iam = listing(server).with_content_type(asset_v1.ContentType.IAM_POLICY)

    with pytest.raises(ListingIncomplete, match="page 0 failed 2 times"):
        listed(iam)
    assert len(listed(listing(server))) == len(list(SIM.assets()))


def test_a_derived_listing_shares_the_pacer_and_the_run_budget(server):
    source = listing(server)

    iam = source.with_content_type(asset_v1.ContentType.IAM_POLICY)

    assert iam.pacer is source.pacer
    assert iam._deadline is not None
    assert iam._deadline == source._deadline
    assert (iam.content_type, source.content_type) == (2, 1)
