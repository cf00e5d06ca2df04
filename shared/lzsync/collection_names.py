"""Firestore collection names: part of the Portal's interface (see README "Firestore schema").

One optional prefix (``LZSYNC_COLLECTION_PREFIX``) namespaces them all, e.g. for a staging
copy in the same database. Internal collections start with ``_``; the Portal never reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# What the Portal reads, and so what the security rules open to Portal users (README "Security
# rules"). `compliance` is written by the compliance engine (a later layer); the Portal already
# listens to it. Every other collection is internal bookkeeping and stays closed.
PORTAL_COLLECTIONS: Final[tuple[str, ...]] = (
    "documents",
    "resources",
    "inventory",
    "activity",
    "sync_status",
    "history",
    "compliance",
)


@dataclass(frozen=True)
class Collections:
    """Resolved collection names for one deployment."""

    prefix: str = ""

    def _named(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def portal(self) -> tuple[str, ...]:
        """The prefixed names of the collections Portal users may read."""
        return tuple(self._named(name) for name in PORTAL_COLLECTIONS)

    @property
    def documents(self) -> str:
        return self._named("documents")

    @property
    def activity(self) -> str:
        return self._named("activity")

    @property
    def sync_status(self) -> str:
        return self._named("sync_status")

    @property
    def resources(self) -> str:
        return self._named("resources")

    @property
    def inventory(self) -> str:
        return self._named("inventory")

    @property
    def asset_state(self) -> str:
        return self._named("_asset_state")

    @property
    def tombstones(self) -> str:
        return self._named("_tombstones")

    @property
    def deliveries(self) -> str:
        return self._named("_deliveries")

    @property
    def manifests(self) -> str:
        return self._named("_manifests")

    @property
    def git_state(self) -> str:
        return self._named("_git_state")

    @property
    def locks(self) -> str:
        return self._named("_locks")

    @property
    def dead_letters(self) -> str:
        return self._named("_dead_letters")

    @property
    def doc_changes(self) -> str:
        return self._named("_doc_changes")

    @property
    def compliance(self) -> str:
        return self._named("compliance")

    @property
    def alerts(self) -> str:
        return self._named("_alerts")

    @property
    def history(self) -> str:
        return self._named("history")
