"""IAM policies reach the compliance engine, against the Firestore emulator and the local
ListAssets server through the real google-cloud-asset client: the snapshot lists IAM_POLICY
before RESOURCE (whose assets never carry a policy), a real-time change keeps the stored policy,
and a failed IAM listing loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.simulator import Simulator
from lzsync.logic import asset_types
from lzsync.services.asset_snapshot import SnapshotOutcome
from lzsync.services.asset_snapshot_http import run_snapshot
from tests.conftest import PROJECT_ID
from tests.helpers import fixture_constraint_files, publish_policies

IAM_RULES = {"deny_allusers", "denylist_public_users"}
IAM_FILES = ("iam_deny_public.yaml", "storage_denylist_public.yaml", "bigquery_world_readable.yaml")


class WithPolicies:
    """A simulator whose assets carry the IAM policies (and field overrides) a test gives them,
    as CAI would hold them; everything else is the wrapped simulator's."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.policies: dict[str, dict[str, Any]] = {}
        self.overrides: dict[str, dict[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.simulator, name)

    def _dress(self, asset: dict[str, Any] | None) -> dict[str, Any] | None:
        if asset is None:
            return None
        name = asset["name"]
        dressed = {**asset, **self.overrides.get(name, {})}
        if name in self.policies:
            dressed["iamPolicy"] = self.policies[name]
        return dressed

    def asset_at(self, index: int, version: int = 0) -> dict[str, Any] | None:
        return self._dress(self.simulator.asset_at(index, version))

    def assets(self, version: int = 0) -> Iterator[dict[str, Any]]:
        for asset in self.simulator.assets(version):
            dressed = self._dress(asset)
            assert dressed is not None
            yield dressed


def policy(*bindings: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "version": 1,
        "etag": "BwXhqDdCjM4=",
        "bindings": [{"role": role, "members": members} for role, members in bindings],
    }


PUBLIC = policy(
    ("roles/storage.objectViewer", ["user:ana@example.com", "allUsers"]),
    ("roles/storage.admin", ["group:ops@example.com"]),
)
PRIVATE = policy(
    ("roles/storage.objectViewer", ["user:ana@example.com"]),
    ("roles/storage.admin", ["group:ops@example.com"]),
)


@pytest.fixture(scope="module")
def constraint_files(landing_zone_source) -> dict[str, str]:
    return fixture_constraint_files(landing_zone_source)


@pytest.fixture
def estate() -> WithPolicies:
    return WithPolicies(Simulator(size=600, seed=21))


@pytest.fixture
def bucket(estate) -> dict[str, Any]:
    return next(a for a in estate.simulator.assets() if a["assetType"] == asset_types.BUCKET)


@pytest.fixture
def server(estate) -> Iterator[AssetServer]:
    running = AssetServer(estate).start()  # type: ignore[arg-type]
    yield running
    running.stop()


@pytest.fixture
def policies_published(db, constraint_files, monkeypatch) -> None:
    from lzsync.adapters import constraint_store

    monkeypatch.setattr(constraint_store, "_STORES", {})
    publish_policies(db, constraint_files, "c1")


def snapshot(server: AssetServer) -> SnapshotOutcome:
    from lzsync.adapters import constraint_store

    constraint_store._STORES.clear()  # a fresh instance: constraints read again
    settings = settings_for(
        server, PROJECT_ID, asset_manifest_shards=16, asset_retry_schedule_seconds=(0.01, 0.02)
    )
    return run_snapshot(settings)


def stored(db, name: str) -> dict[str, Any]:
    return db.collection("resources").document(resource_id(name)).get().to_dict()


def iam_violations(document: dict[str, Any]) -> set[str]:
    return {v["constraint"] for v in document["violations"]} & IAM_RULES


def content_types(server: AssetServer) -> list[str]:
    return [
        path.split("contentType=", 1)[1].split("&", 1)[0]
        for path in server.requests
        if "contentType=" in path
    ]


def test_a_public_bucket_is_flagged_although_its_resource_listing_has_no_policy(
    db, server, estate, bucket, policies_published
):
    estate.policies[bucket["name"]] = PUBLIC

    outcome = snapshot(server)

    assert outcome.outcome == "complete"
    assert outcome.iam_policies == 1
    document = stored(db, bucket["name"])
    assert iam_violations(document) == IAM_RULES
    assert document["compliant"] is False
    assert document["iam_policy"] == [
        {"role": "roles/storage.admin", "members": ["group:ops@example.com"]},
        {"role": "roles/storage.objectViewer", "members": ["allUsers", "user:ana@example.com"]},
    ]
    # One IAM_POLICY listing, then the RESOURCE one; the client sends enums as numbers.
    kinds = content_types(server)
    assert kinds == ["2"] * (len(kinds) // 2) + ["1"] * (len(kinds) // 2)
    status = db.collection("sync_status").document("assets").get().to_dict()
    assert status["counts"]["iam_policies"] == 1
    summary = db.collection("compliance").document("summary").get().to_dict()
    assert all(summary["by_constraint"][rule]["violations"] == 1 for rule in IAM_RULES)


def test_removing_the_public_binding_clears_the_violations_at_the_next_snapshot(
    db, server, estate, bucket, policies_published
):
    estate.policies[bucket["name"]] = PUBLIC
    snapshot(server)
    estate.policies[bucket["name"]] = PRIVATE

    outcome = snapshot(server)

    assert (outcome.outcome, outcome.updated) == ("complete", 1)
    document = stored(db, bucket["name"])
    assert iam_violations(document) == set()
    assert ["allUsers"] not in [b["members"][:1] for b in document["iam_policy"]]


def test_assets_without_a_policy_store_none_and_are_not_rewritten(
    db, server, estate, bucket, policies_published
):
    estate.policies[bucket["name"]] = PUBLIC
    snapshot(server)

    again = snapshot(server)

    assert (again.outcome, again.written) == ("complete", 0)
    with_policy = db.collection("resources").where(filter=FieldFilter("iam_policy", "!=", None))
    assert [snap.get("name") for snap in with_policy.stream()] == [bucket["name"]]


def test_no_iam_listing_when_no_constraint_reads_iam(
    db, server, estate, bucket, constraint_files, monkeypatch
):
    from lzsync.adapters import constraint_store

    monkeypatch.setattr(constraint_store, "_STORES", {})
    without_iam = {p: t for p, t in constraint_files.items() if not p.endswith(IAM_FILES)}
    assert len(without_iam) == len(constraint_files) - len(IAM_FILES)
    publish_policies(db, without_iam, "c1")
    estate.policies[bucket["name"]] = PUBLIC

    outcome = snapshot(server)

    assert (outcome.outcome, outcome.iam_pages) == ("complete", 0)
    assert set(content_types(server)) == {"1"}
    assert len(server.requests) == outcome.pages
    assert "iam_policy" not in stored(db, bucket["name"])


def test_a_failed_iam_listing_is_partial_deletes_nothing_and_keeps_iam_violations(
    db, server, estate, bucket, policies_published
):
    estate.policies[bucket["name"]] = PUBLIC
    snapshot(server)
    before = {snap.id: snap.to_dict() for snap in db.collection("resources").stream()}
    server.version = 3  # the estate moved: some assets are gone, some changed
    server.iam_faults[0] = [503] * 3  # beyond the two retries

    outcome = snapshot(server)

    assert outcome.outcome == "partial"
    assert outcome.deleted == 0
    assert outcome.iam_stored == 1
    after = {snap.id: snap.to_dict() for snap in db.collection("resources").stream()}
    assert before.keys() <= after.keys()
    document = after[resource_id(bucket["name"])]
    assert iam_violations(document) == IAM_RULES
    assert document["content_hash"] == before[resource_id(bucket["name"])]["content_hash"]
    status = db.collection("sync_status").document("assets").get().to_dict()
    assert (status["state"], status["partial"]) == ("degraded", True)
    message = status["last_error"]["message"]
    assert message.startswith("IAM policy listing failed")
    assert "judged with their stored policy" in message
    summary = db.collection("compliance").document("summary").get().to_dict()
    assert summary["by_constraint"]["deny_allusers"]["violations"] == 1  # the last complete run


def feed_change(asset: dict[str, Any], when: datetime) -> dict[str, Any]:
    text = when.isoformat().replace("+00:00", "Z")
    return {
        "asset": {**asset, "updateTime": text},
        "priorAssetState": "PRESENT",
        "window": {"startTime": text},
    }


def test_a_resource_event_without_a_policy_keeps_the_iam_violations(
    db, server, estate, bucket, policies_published, feed_function
):
    estate.policies[bucket["name"]] = PUBLIC
    snapshot(server)
    changed = json.loads(json.dumps(bucket))
    changed["resource"]["data"]["labels"]["owner"] = "team-a"
    when = datetime.now(UTC)

    assert feed_function(feed_change(changed, when)) < 300

    document = stored(db, bucket["name"])
    assert document["source"] == "event"
    assert document["labels"]["owner"] == "team-a"
    assert iam_violations(document) == IAM_RULES
    assert document["iam_policy"][1]["members"] == ["allUsers", "user:ana@example.com"]

    # CAI's listing now shows the resource as the event did, and the policy made private:
    # the next snapshot writes both.
    estate.overrides[bucket["name"]] = feed_change(changed, when)["asset"]
    estate.policies[bucket["name"]] = PRIVATE
    assert snapshot(server).outcome == "complete"
    assert iam_violations(stored(db, bucket["name"])) == set()


def test_an_event_carrying_a_policy_is_judged_with_it_and_stores_it(
    db, server, estate, bucket, policies_published, feed_function
):
    snapshot(server)
    assert iam_violations(stored(db, bucket["name"])) == set()

    assert feed_function(feed_change({**bucket, "iamPolicy": PUBLIC}, datetime.now(UTC))) < 300

    document = stored(db, bucket["name"])
    assert iam_violations(document) == IAM_RULES
    assert len(document["iam_policy"]) == 2
    turned = db.collection("activity").where(filter=FieldFilter("kind", "==", "non_compliant"))
    assert [entry.get("asset") for entry in turned.stream()] == [bucket["name"]]


def test_an_iam_only_feed_message_is_dead_lettered_and_leaves_the_document_alone(
    db, server, estate, bucket, policies_published, feed_function
):
    estate.policies[bucket["name"]] = PUBLIC
    snapshot(server)
    before = stored(db, bucket["name"])
    iam_only = {key: bucket[key] for key in ("name", "assetType", "ancestors", "updateTime")} | {
        "iamPolicy": PRIVATE
    }

    assert feed_function(feed_change(iam_only, datetime.now(UTC) + timedelta(seconds=1))) < 300

    assert stored(db, bucket["name"]) == before
    letters = [snap.to_dict() for snap in db.collection("_dead_letters").stream()]
    assert len(letters) == 1
    assert "IAM policy feed messages" in letters[0]["reason"]
    assert "not supported yet" in letters[0]["reason"]
