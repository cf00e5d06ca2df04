import pytest

from lzsync.logic import docids


@pytest.mark.parametrize(
    "key",
    [
        "docs/README.md",
        "owner/repo:3-networks-svpc/envs/shared/common.auto.tfvars",
        "//compute.googleapis.com/projects/p/zones/z/instances/vm-1",
        "naïve/日本語.md",
        "100%/done~ok.md",
        "with space/and#hash?.md",
    ],
)
def test_encoding_is_reversible_and_slash_free(key):
    doc_id = docids.encode(key)
    assert "/" not in doc_id
    assert docids.decode(doc_id) == key


@pytest.mark.parametrize("key", [".", "..", "__x__", "__name__"])
def test_reserved_ids_are_escaped(key):
    doc_id = docids.encode(key)
    assert doc_id not in {".", ".."}
    assert not (doc_id.startswith("__") and doc_id.endswith("__"))
    assert docids.decode(doc_id) == key


def test_distinct_keys_get_distinct_ids():
    keys = ["a/b", "a%2Fb", "a:b", "a%3Ab", "~a", "%7Ea"]
    assert len({docids.encode(key) for key in keys}) == len(keys)


def test_overlong_key_becomes_a_stable_hash_within_the_limit():
    key = "deep/" * 400 + "file.md"
    doc_id = docids.encode(key)
    assert len(doc_id.encode()) <= docids.MAX_ID_BYTES
    assert doc_id == docids.encode(key)
    assert doc_id != docids.encode(key + "x")
    with pytest.raises(ValueError, match="hashed id"):
        docids.decode(doc_id)


def test_empty_key_is_refused():
    with pytest.raises(ValueError, match="empty"):
        docids.encode("")
