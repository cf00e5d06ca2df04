import hashlib

import pytest

from lzsync.adapters.manifest import ManifestShardFull, ShardedManifest


def test_a_manifest_round_trips_and_rewrites_only_changed_shards(db):
    manifest = ShardedManifest(db, "_manifests", "test:one", shards=8)
    entries = {f"path/{index}.md": f"sha{index}" for index in range(500)}

    assert manifest.save(entries, entries) == 8
    assert manifest.load() == entries

    before = {snap.id: snap.update_time for snap in db.collection("_manifests").stream()}
    entries["path/7.md"] = "changed"
    assert manifest.save(entries, ["path/7.md"]) == 1
    after = {snap.id: snap.update_time for snap in db.collection("_manifests").stream()}

    assert sum(before[doc_id] != after[doc_id] for doc_id in before) == 1
    assert manifest.load()["path/7.md"] == "changed"


def test_a_removed_key_disappears_from_its_shard(db):
    manifest = ShardedManifest(db, "_manifests", "test:two", shards=4)
    manifest.save({"a": "1", "b": "2"}, ["a", "b"])

    manifest.save({"b": "2"}, ["a"])

    assert manifest.load() == {"b": "2"}


def test_entries_are_stored_as_one_blob_per_shard_not_an_indexed_map(db):
    ShardedManifest(db, "_manifests", "test:three", shards=1).save({"k": "v"}, ["k"])

    [shard] = db.collection("_manifests").get()
    assert set(shard.to_dict()) == {"manifest", "count", "entries_zlib"}
    assert isinstance(shard.get("entries_zlib"), bytes)


def test_a_shard_that_outgrows_a_document_is_a_clear_error(db):
    manifest = ShardedManifest(db, "_manifests", "test:four", shards=1)
    # Hash-like values barely compress: 40,000 of them outgrow one document.
    entries = {
        f"{index:08d}": hashlib.sha256(str(index).encode()).hexdigest() for index in range(40_000)
    }

    with pytest.raises(ManifestShardFull, match="raise its shard count"):
        manifest.save(entries, entries)
