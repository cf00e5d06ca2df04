"""Which synced files changed, one entry per file: what the history layer's ``doc_changes``
table and documentation-churn trends count. A rename is one change (with the old path), not
an addition plus a removal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lzsync.logic.tree_diff import TreeDiff


@dataclass(frozen=True)
class FileChange:
    path: str
    change: str  # added | modified | removed | renamed
    doc_kind: str | None
    previous_path: str | None = None

    def as_record(self) -> dict[str, str | None]:
        return {
            "path": self.path,
            "change": self.change,
            "doc_kind": self.doc_kind,
            "previous_path": self.previous_path,
        }


def file_changes(changes: TreeDiff, kinds: Mapping[str, str]) -> list[FileChange]:
    """``kinds`` maps every path of ``changes`` (old and new) to its classification."""
    moved_from = {old for old, _ in changes.renamed}
    moved_to = {new: old for old, new in changes.renamed}
    listed = [
        FileChange(path, "renamed", kinds.get(path), moved_to[path])
        if path in moved_to
        else FileChange(path, "added", kinds.get(path))
        for path in changes.added
    ]
    listed += [FileChange(path, "modified", kinds.get(path)) for path in changes.modified]
    listed += [
        FileChange(path, "removed", kinds.get(path))
        for path in changes.removed
        if path not in moved_from
    ]
    return listed
