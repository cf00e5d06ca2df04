"""IAM policies in compliance: which kinds need them, how a policy is stored on a document, and
the snapshot's index of listed policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lzsync.adapters.asset_sources import AssetPage, ExportSource, ListingIncomplete
from lzsync.adapters.constraint_store import ConstraintSet
from lzsync.logic.asset_normalize import policy_bindings, resource_document
from lzsync.logic.compliance.registry import Constraint, registered
from lzsync.services.asset_policies import PolicyIndex, list_policies
from tests.helpers import FORMATS_DIR

BUCKET = "//storage.googleapis.com/bkt-public"
IAM_KINDS = {
    "GCPIAMAllowedBindingsConstraintV3",
    "GCPStorageBucketWorldReadableConstraintV1",
    "GCPBigQueryDatasetWorldReadableConstraintV1",
}


def bucket(**extra: Any) -> dict[str, Any]:
    return {
        "name": BUCKET,
        "assetType": "storage.googleapis.com/Bucket",
        "ancestors": ["projects/1", "organizations/5"],
        "updateTime": "2026-01-05T09:00:00Z",
        "resource": {"data": {"name": "bkt-public"}},
        **extra,
    }


PUBLIC = {
    "version": 1,
    "etag": "BwX=",
    "bindings": [
        {"role": "roles/storage.objectViewer", "members": ["user:b@example.com", "allUsers"]},
        {"role": "roles/storage.admin", "members": ["group:ops@example.com"]},
    ],
}


def test_exactly_the_three_iam_kinds_are_marked_as_reading_iam():
    assert {name for name, check in registered().items() if check.reads_iam} == IAM_KINDS


def test_a_constraint_set_needs_iam_only_with_an_iam_kind():
    firewall = Constraint("fw", "GCPRestrictedFirewallRulesConstraintV1", "high")
    public = Constraint("public", "GCPStorageBucketWorldReadableConstraintV1", "high")
    unknown = Constraint("x", "GCPNoSuchKindV1", "low")

    assert ConstraintSet((firewall, unknown)).needs_iam is False
    assert ConstraintSet((firewall, public)).needs_iam is True
    assert ConstraintSet().needs_iam is False


def test_a_policy_is_stored_as_sorted_bindings_without_etag_or_conditions():
    conditional = {
        "bindings": [
            {"role": "roles/b", "members": ["user:z@x.com", "user:a@x.com", "user:a@x.com"]},
            {"role": "roles/a", "members": ["allUsers"], "condition": {"expression": "true"}},
        ],
        "auditConfigs": [{"service": "allServices"}],
    }

    assert policy_bindings(conditional) == [
        {"role": "roles/a", "members": ["allUsers"]},
        {"role": "roles/b", "members": ["user:a@x.com", "user:z@x.com"]},
    ]
    assert policy_bindings({"etag": "BwVmE0T93HQ="}) is None  # no binding: as no policy
    assert policy_bindings(None) is None


def test_the_document_keeps_the_policy_it_was_judged_with_in_its_hash():
    plain = resource_document(bucket(), source="snapshot")
    with_policy = resource_document(bucket(iamPolicy=PUBLIC), source="snapshot")
    reordered = {**PUBLIC, "etag": "other", "bindings": list(reversed(PUBLIC["bindings"]))}

    assert "iam_policy" not in plain
    assert with_policy["iam_policy"][1] == {
        "role": "roles/storage.objectViewer",
        "members": ["allUsers", "user:b@example.com"],
    }
    assert with_policy["content_hash"] != plain["content_hash"]
    same = resource_document(bucket(iamPolicy=reordered), source="snapshot")
    assert same["content_hash"] == with_policy["content_hash"]
    stored_form = {"bindings": with_policy["iam_policy"]}
    carried = resource_document(bucket(iamPolicy=stored_form), source="event")
    assert carried["content_hash"] == with_policy["content_hash"]


class Pages:
    """A source that yields the given pages, then stops as a failing listing does."""

    def __init__(self, pages: list[list[dict[str, Any]]], fail: bool = False) -> None:
        self._pages = pages
        self._fail = fail

    def pages(self) -> Iterator[AssetPage]:
        for number, assets in enumerate(self._pages):
            yield AssetPage(number, assets)
        if self._fail:
            raise ListingIncomplete("page 2 failed 3 times: 503", pages_read=2)


def test_the_index_attaches_listed_policies_and_leaves_others_alone():
    index = list_policies(Pages([[{"name": BUCKET, "iamPolicy": PUBLIC}], []]))

    assert (index.complete, index.pages, list(index.policies)) == (True, 2, [BUCKET])
    attached = index.attach(bucket())
    assert policy_bindings(attached["iamPolicy"]) == policy_bindings(PUBLIC)
    other = bucket(name="//storage.googleapis.com/other")
    assert index.attach(other) is other
    assert index.needs_stored(other) is False  # complete: no policy listed means none


def test_an_interrupted_listing_gives_an_incomplete_index_that_asks_for_stored_policies():
    index = list_policies(Pages([[{"name": BUCKET, "iamPolicy": PUBLIC}]], fail=True))

    assert index.complete is False
    assert "page 2 failed" in str(index.error)
    assert index.needs_stored(index.attach(bucket())) is False  # its policy was listed
    assert index.needs_stored(bucket(name="//storage.googleapis.com/other")) is True


def test_a_listed_policy_without_a_name_makes_the_index_incomplete():
    index = list_policies(Pages([[{"iamPolicy": PUBLIC}]]))

    assert index.complete is False
    assert index == PolicyIndex(error=index.error, pages=1)


def test_an_iam_policy_export_with_an_empty_policy_lists_no_policy():
    path = FORMATS_DIR / "cai" / "psvc_asset-inventory_iam_policy.json.ndjson"

    index = list_policies(ExportSource(str(path)))

    assert (index.complete, index.policies) == (True, {})
