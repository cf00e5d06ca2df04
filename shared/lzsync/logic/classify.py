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
    """Classifies repository paths; built once per repository and reused for every file."""

    def __init__(
        self,
        rules: Sequence[ClassifyRule],
        include: Sequence[str] = ("**",),
        exclude: Sequence[str] = (),
    ) -> None:
        self._rules = tuple(rules)
        self._include = tuple(include)
        self._exclude = tuple(exclude)

    def kind_of(self, path: str) -> DocumentKind | None:
        """The path's kind, or None when the Portal does not show it."""
        if not glob.globmatch(path, self._include, flags=_FLAGS):
            return None
        if self._exclude and glob.globmatch(path, self._exclude, flags=_FLAGS):
            return None
        for rule in self._rules:
            if glob.globmatch(path, rule.pattern, flags=_FLAGS):
                return rule.kind
        return None
