"""The difference between what Firestore holds and what the branch head holds.

Both sides are manifests: repository path → a fingerprint of everything that decides a
document's content (blob SHA, kind, mode). Diffing manifests instead of a push's file lists is
what makes force pushes and empty or truncated ``commits`` lists harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fingerprint:
    blob_sha: str
    kind: str
    mode: int

    def encode(self) -> str:
        return f"{self.blob_sha} {self.kind} {self.mode:o}"

    @classmethod
    def decode(cls, value: str) -> Fingerprint:
        blob_sha, kind, mode = value.split(" ")
        return cls(blob_sha=blob_sha, kind=kind, mode=int(mode, 8))


@dataclass(frozen=True)
class TreeDiff:
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # (old path, new path) pairs whose content moved unchanged; each is also in added/removed.
    renamed: tuple[tuple[str, str], ...] = field(default=())

    @property
    def to_write(self) -> tuple[str, ...]:
        return self.added + self.modified

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.modified or self.removed)


def diff(held: Mapping[str, Fingerprint], head: Mapping[str, Fingerprint]) -> TreeDiff:
    """What to write and delete so that ``held`` becomes ``head``."""
    added = sorted(path for path in head if path not in held)
    removed = sorted(path for path in held if path not in head)
    modified = sorted(path for path in head if path in held and held[path] != head[path])
    removed_by_blob: dict[str, list[str]] = {}
    for path in removed:
        removed_by_blob.setdefault(held[path].blob_sha, []).append(path)
    renamed = []
    for path in added:
        candidates = removed_by_blob.get(head[path].blob_sha)
        if candidates:
            renamed.append((candidates.pop(0), path))
    return TreeDiff(tuple(added), tuple(modified), tuple(removed), tuple(renamed))
