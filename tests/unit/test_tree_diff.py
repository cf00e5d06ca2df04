from lzsync.logic.tree_diff import Fingerprint, diff


def fp(sha: str, kind: str = "doc", mode: int = 0o100644) -> Fingerprint:
    return Fingerprint(sha * 40, kind, mode)


def test_identical_trees_need_no_writes():
    tree = {"a.md": fp("1"), "b.md": fp("2")}
    assert diff(tree, dict(tree)).is_empty


def test_added_modified_and_removed_paths_are_found():
    held = {"keep.md": fp("1"), "change.md": fp("2"), "gone.md": fp("3")}
    head = {"keep.md": fp("1"), "change.md": fp("4"), "new.md": fp("5")}
    changes = diff(held, head)
    assert changes.added == ("new.md",)
    assert changes.modified == ("change.md",)
    assert changes.removed == ("gone.md",)
    assert changes.to_write == ("new.md", "change.md")


def test_a_kind_or_mode_change_rewrites_the_document():
    assert diff({"a": fp("1", "doc")}, {"a": fp("1", "runbook")}).modified == ("a",)
    assert diff({"a": fp("1")}, {"a": fp("1", mode=0o100755)}).modified == ("a",)


def test_rename_is_reported_and_still_written_and_deleted():
    changes = diff({"old/name.md": fp("7")}, {"new/name.md": fp("7")})
    assert changes.renamed == (("old/name.md", "new/name.md"),)
    assert changes.added == ("new/name.md",)
    assert changes.removed == ("old/name.md",)


def test_fingerprint_round_trips_through_its_manifest_encoding():
    value = fp("a", "policy", 0o120000)
    assert Fingerprint.decode(value.encode()) == value
