"""The snapshot's IAM pass: every listed asset's IAM policy, held by name for the RESOURCE pass.

Cloud Asset Inventory lists an asset's ``resource`` and its ``iamPolicy`` separately (content
types RESOURCE and IAM_POLICY), and a feed of one content type never carries the other. The
constraint kinds that read IAM (:attr:`~lzsync.logic.compliance.registry.KindCheck.reads_iam`)
would otherwise never see a policy and pass silently. So, when such a kind is loaded, the
snapshot first lists IAM_POLICY for the same scope and types and keeps ``name → bindings``;
the RESOURCE pass attaches each asset's policy before judging it.

Memory: only assets that have a policy are listed, and each is kept as the compact JSON text
of its bindings (one string per asset, not a tree of dicts): about 0.6 KiB per policy-holding
asset, 57 MiB of resident memory for 100,000 policies of 3 bindings (``bench/asset_policies.py``),
on top of the manifest.

A listing that stops early is **incomplete**: an asset it did not reach may have a policy it
never returned. Such an asset is then judged with the policy its stored document was judged
with (:meth:`PolicyIndex.needs_stored`), so a failed IAM listing never clears an IAM
violation; the run is reported partial and deletes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lzsync.adapters.asset_sources import AssetSource, ListingIncomplete, policy_listing
from lzsync.logic.asset_normalize import asset_policy

_log = logging.getLogger("lzsync.assets")


@dataclass
class PolicyIndex:
    policies: dict[str, str] = field(default_factory=dict)  # name → JSON of its bindings
    pages: int = 0
    # Why the listing is incomplete (None: it reached its end).
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None

    def bindings(self, name: str) -> list[dict[str, Any]] | None:
        text = self.policies.get(name)
        return None if text is None else list(json.loads(text))

    def attach(self, asset: Mapping[str, Any]) -> Mapping[str, Any]:
        """``asset`` with its listed policy as ``iamPolicy`` (the shape CAI uses), unless it
        already carries one or none was listed for it."""
        if asset_policy(asset) is not None:
            return asset
        name = asset.get("name")
        bindings = self.bindings(name) if isinstance(name, str) else None
        if bindings is None:
            return asset
        return {**asset, "iamPolicy": {"bindings": bindings}}

    def needs_stored(self, asset: Mapping[str, Any]) -> bool:
        """Whether ``asset`` (after :meth:`attach`) should be judged with its stored policy:
        the listing did not finish, so "no policy listed" is not evidence of "no policy"."""
        return not self.complete and asset_policy(asset) is None


def list_policies(source: AssetSource) -> PolicyIndex:
    """Read every page of an IAM_POLICY listing into a :class:`PolicyIndex`; a listing that
    stops early (or returns an entry without a name) gives an incomplete index, never raises."""
    index = PolicyIndex()
    try:
        for page in source.pages():
            index.pages += 1
            if page.unreadable:
                index.error = f"{page.unreadable} unreadable entries (page {page.number})"
            for asset in page.assets:
                name = asset.get("name")
                if not isinstance(name, str) or not name:
                    index.error = f"a policy without an asset name (page {page.number})"
                    continue
                bindings = asset_policy(asset)
                if bindings is not None:
                    index.policies[name] = json.dumps(bindings, separators=(",", ":"))
    except ListingIncomplete as error:
        index.error = str(error)
    _log.info(
        "IAM policies listed",
        extra={"policies": len(index.policies), "pages": index.pages, "error": index.error},
    )
    return index


def policies_for(source: AssetSource, needs_iam: bool) -> PolicyIndex | None:
    """The IAM pass over ``source``'s scope when a loaded constraint reads IAM policies and the
    source can list them (a live listing); None otherwise: assets are judged as given."""
    if not needs_iam:
        return None
    listing = policy_listing(source)
    return None if listing is None else list_policies(listing)
