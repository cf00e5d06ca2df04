"""Which repository files the Portal shows, and as what kind.

A path is synced when it matches the repository's ``include`` globs, none of its ``exclude``
globs, and one of the classification rules (first match wins). Globs use ``**`` for any number
of folders and ``{a,b}`` for alternatives, and match dot-files too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from wcmatch import glob

from lzsync.settings import ClassifyRule, DocumentKind

_FLAGS: Final = glob.GLOBSTAR | glob.BRACE | glob.DOTGLOB


class Classifier:
    """Classifies repository paths; built once per run and reused for every file (the globs
    are compiled once here, which is most of the cost of matching)."""

    def __init__(
        self,
        rules: Sequence[ClassifyRule],
        include: Sequence[str] = ("**",),
        exclude: Sequence[str] = (),
    ) -> None:
        self._rules = [(rule.kind, glob.compile(rule.pattern, flags=_FLAGS)) for rule in rules]
        self._include = glob.compile(list(include), flags=_FLAGS)
        self._exclude = glob.compile(list(exclude), flags=_FLAGS) if exclude else None

    def kind_of(self, path: str) -> DocumentKind | None:
        """The path's kind, or None when the Portal does not show it."""
        if not self._include.match(path):
            return None
        if self._exclude is not None and self._exclude.match(path):
            return None
        for kind, matcher in self._rules:
            if matcher.match(path):
                return kind
        return None
