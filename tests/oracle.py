"""What Firestore should hold, computed independently of lzsync's git code: the git CLI reads
the tree (lzsync reads it with dulwich), and the documents are compared field by field."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from google.cloud import firestore

from lzsync.logic.classify import Classifier
from lzsync.settings import DEFAULT_CLASSIFY_RULES


def classified_tree(repo: Path, commit: str) -> dict[str, tuple[str, str]]:
    """path → (blob sha, kind) for every file of ``commit`` the Portal shows."""
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-z", commit],
        capture_output=True,
        check=True,
    ).stdout.decode()
    classifier = Classifier(DEFAULT_CLASSIFY_RULES)
    tree = {}
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _mode, _type, sha = meta.split()
        kind = classifier.kind_of(path)
        if kind is not None:
            tree[path] = (sha, kind)
    return tree


def blob_text(repo: Path, sha: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", sha], capture_output=True, check=True
    ).stdout.decode()


def stored_documents(db: firestore.Client, collection: str = "documents") -> dict[str, Any]:
    """path → document data, for every document in the collection."""
    return {snap.get("path"): snap.to_dict() for snap in db.collection(collection).stream()}


def assert_documents_match_tree(
    db: firestore.Client, repo: Path, commit: str, *, check_content: bool = True
) -> None:
    expected = classified_tree(repo, commit)
    stored = stored_documents(db)
    assert sorted(stored) == sorted(expected), "document paths differ from the classified tree"
    for path, (sha, kind) in expected.items():
        document = stored[path]
        assert (document["blob_sha"], document["kind"]) == (sha, kind), path
        if check_content and document["flag"] is None:
            assert document["content"] == blob_text(repo, sha), path
