"""Checks of the GKE constraint kinds (the policy library's ``GCPGKE*ConstraintV1`` templates).

Every kind here reads the Cloud Asset Inventory ``container.googleapis.com/Cluster`` asset, whose
``resource.data`` is the GKE v1 API ``Cluster`` with its node pools embedded under ``nodePools``
(each pool's ``NodeConfig`` is under ``config``). The reference Rego matches only that asset type
too; the separate ``container.googleapis.com/NodePool`` asset is deliberately not registered,
since its pools are already inside the cluster asset and would be reported twice.

Where the reference Rego has drifted from today's GKE API (fields GKE no longer returns, new
fields that mean the same thing), the check follows the API and the difference is listed in
``docs/compliance-gke.md``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from lzsync.logic import asset_types as t
from lzsync.logic.compliance.registry import Asset, Constraint, kind

CLUSTER_ONLY: Final = (t.CLUSTER,)

# Scopes GKE's hardening guide lists as the minimal node set; the template's default for
# `oauth_scopes` (kubernetes-engine/docs/how-to/hardening-your-cluster#reduce_node_sa_scopes).
DEFAULT_NODE_OAUTH_SCOPES: Final = frozenset(
    {
        "https://www.googleapis.com/auth/devstorage.read_only",
        "https://www.googleapis.com/auth/logging.write",
        "https://www.googleapis.com/auth/servicecontrol",
        "https://www.googleapis.com/auth/service.management.readonly",
        "https://www.googleapis.com/auth/trace.append",
        "https://www.googleapis.com/auth/monitoring",
    }
)
# The Compute Engine default service account, which the API may report by email instead of
# by the alias "default" (iam/docs/service-account-types#default).
_DEFAULT_COMPUTE_SA: Final = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")
# Before GKE 1.12, a cluster created without `masterAuth` got a static password and a client
# certificate; from 1.12 both are off unless asked for.
_SAFE_AUTH_DEFAULTS_SINCE: Final = (1, 12)
# The Kubernetes Dashboard add-on cannot be enabled on GKE 1.15 and later (AddonsConfig docs).
_DASHBOARD_GONE_SINCE: Final = (1, 15)
_VERSION: Final = re.compile(r"^(\d+)\.(\d+)")


# --- reading the Cluster --------------------------------------------------------------------
def _cluster(asset: Asset) -> Mapping[str, Any]:
    data = asset.get("resource", {}).get("data", {})
    return data if isinstance(data, Mapping) else {}


def _get(mapping: Any, *path: str) -> Any:
    """The value at ``path``, or None where any step is missing or is not an object."""
    for key in path:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _is_true(value: Any) -> bool:
    """A boolean field as exported: old CAI exports carry some booleans as strings."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _node_pools(asset: Asset) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each node pool's name and object, in the order the API lists them."""
    pools = _cluster(asset).get("nodePools")
    if not isinstance(pools, Sequence) or isinstance(pools, str):
        return
    for index, pool in enumerate(pools):
        if isinstance(pool, Mapping):
            yield str(pool.get("name") or f"#{index}"), pool


def _minor_version(cluster: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(major, minor)`` of the control plane, None when the version is absent or unreadable."""
    found = _VERSION.match(str(cluster.get("currentMasterVersion") or ""))
    return (int(found[1]), int(found[2])) if found else None


def _per_pool(asset: Asset, problem: Callable[[Mapping[str, Any]], str | None]) -> list[str]:
    """Messages ``node pool <name>: <problem>`` for each pool where ``problem`` finds one."""
    messages = []
    for name, pool in _node_pools(asset):
        found = problem(pool)
        if found:
            messages.append(f"node pool {name}: {found}")
    return messages


# --- node pools -----------------------------------------------------------------------------
@kind("GCPGKEAllowedNodeSAConstraintV1", CLUSTER_ONLY)
def allowed_node_scopes(asset: Asset, constraint: Constraint) -> list[str]:
    """Node OAuth scopes beyond the allowed list give every pod on the node the node service
    account's reach; an explicit empty ``oauth_scopes`` allows none."""
    configured = constraint.parameters.get("oauth_scopes")
    allowed = DEFAULT_NODE_OAUTH_SCOPES if configured is None else frozenset(configured)

    def extra_scopes(pool: Mapping[str, Any]) -> str | None:
        scopes = _get(pool, "config", "oauthScopes") or []
        extra = sorted(set(scopes) - allowed)
        return f"scopes not allowed: {', '.join(extra)}" if extra else None

    return _per_pool(asset, extra_scopes)


@kind("GCPGKEContainerOptimizedOSConstraintV1", CLUSTER_ONLY)
def container_optimized_os(asset: Asset, constraint: Constraint) -> list[str]:
    """Container-Optimized OS is the hardened node image; ``COS_CONTAINERD`` counts only when
    ``cos_containerd_allowed`` says so, as the template defines (default false)."""
    allowed = {"COS"}
    if _is_true(constraint.parameters.get("cos_containerd_allowed", False)):
        allowed.add("COS_CONTAINERD")

    def image(pool: Mapping[str, Any]) -> str | None:
        image_type = str(_get(pool, "config", "imageType") or "")
        if image_type.upper() in allowed:
            return None
        return f"image {image_type} is not Container-Optimized OS" if image_type else "no image"

    return _per_pool(asset, image)


@kind("GCPGKEDisableDefaultServiceAccountConstraintV1", CLUSTER_ONLY)
def no_default_service_account(asset: Asset, constraint: Constraint) -> list[str]:
    """Nodes running as the Compute Engine default account carry its broad project Editor
    grant; an unset account means the default one."""

    def account(pool: Mapping[str, Any]) -> str | None:
        email = str(_get(pool, "config", "serviceAccount") or "default")
        if email == "default" or _DEFAULT_COMPUTE_SA.match(email):
            return "runs as the default service account"
        return None

    return _per_pool(asset, account)


@kind("GCPGKEDisableLegacyEndpointsConstraintV1", CLUSTER_ONLY)
def legacy_metadata_endpoints_disabled(asset: Asset, constraint: Constraint) -> list[str]:
    """The legacy metadata endpoints serve credentials without the ``Metadata-Flavor`` header;
    only an explicit ``disable-legacy-endpoints: "true"`` shows them off."""

    def endpoints(pool: Mapping[str, Any]) -> str | None:
        value = _get(pool, "config", "metadata", "disable-legacy-endpoints")
        return None if _is_true(value) else "legacy metadata endpoints not disabled"

    return _per_pool(asset, endpoints)


@kind("GCPGKENodeAutoRepairConstraintV1", CLUSTER_ONLY)
def node_auto_repair(asset: Asset, constraint: Constraint) -> list[str]:
    """Without auto-repair an unhealthy node stays in service until someone notices."""
    return _per_pool(
        asset,
        lambda pool: (
            None if _is_true(_get(pool, "management", "autoRepair")) else "auto-repair off"
        ),
    )


@kind("GCPGKENodeAutoUpgradeConstraintV1", CLUSTER_ONLY)
def node_auto_upgrade(asset: Asset, constraint: Constraint) -> list[str]:
    """Without auto-upgrade nodes fall behind the control plane and miss security patches."""
    return _per_pool(
        asset,
        lambda pool: (
            None if _is_true(_get(pool, "management", "autoUpgrade")) else "auto-upgrade off"
        ),
    )


# --- the cluster ----------------------------------------------------------------------------
@kind("GCPGKEDashboardConstraintV1", CLUSTER_ONLY)
def dashboard_disabled(asset: Asset, constraint: Constraint) -> list[str]:
    """The Kubernetes Dashboard add-on ran with a powerful service account; it must be shown
    disabled, except on 1.15+ where GKE no longer offers it at all."""
    cluster = _cluster(asset)
    dashboard = _get(cluster, "addonsConfig", "kubernetesDashboard")
    if isinstance(dashboard, Mapping):
        return [] if _is_true(dashboard.get("disabled")) else ["Kubernetes Dashboard enabled"]
    version = _minor_version(cluster)
    if version is not None and version >= _DASHBOARD_GONE_SINCE:
        return []
    return ["Kubernetes Dashboard not shown disabled"]


@kind("GCPGKELegacyAbacConstraintV1", CLUSTER_ONLY)
def legacy_abac_disabled(asset: Asset, constraint: Constraint) -> list[str]:
    """Legacy ABAC grants rights outside RBAC, so RBAC reviews miss them."""
    enabled = _get(_cluster(asset), "legacyAbac", "enabled")
    return ["legacy ABAC enabled"] if _is_true(enabled) else []


@kind("GCPGKEEnableAliasIPRangesConstraintV1", CLUSTER_ONLY)
def alias_ip_ranges(asset: Asset, constraint: Constraint) -> list[str]:
    """VPC-native (alias IP) clusters give pods VPC addresses that firewalls and anti-spoofing
    see; routes-based clusters do not."""
    use_aliases = _get(_cluster(asset), "ipAllocationPolicy", "useIpAliases")
    return [] if _is_true(use_aliases) else ["alias IP ranges off (routes-based cluster)"]


@kind("GCPGKEMasterAuthorizedNetworksEnabledConstraintV1", CLUSTER_ONLY)
def master_authorized_networks(asset: Asset, constraint: Constraint) -> list[str]:
    """The control plane must accept only listed networks; when ``authorized_networks`` is
    given (even empty), every listed block must lie inside one of its CIDRs."""
    config = _get(_cluster(asset), "masterAuthorizedNetworksConfig")
    if not _is_true(_get(config, "enabled")):
        return ["master authorized networks off (control plane open to 0.0.0.0/0)"]
    if "authorized_networks" not in constraint.parameters:
        return []
    allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    messages = []
    for cidr in constraint.parameters.get("authorized_networks") or []:
        try:
            allowed.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            # Fail closed: a constraint we cannot read cannot vouch for the cluster.
            messages.append(f"constraint parameter authorized_networks: invalid CIDR {cidr}")
    outside = []
    for block in _get(config, "cidrBlocks") or []:
        cidr = str(_get(block, "cidrBlock") or "")
        if not _within(cidr, allowed):
            outside.append(cidr)
    if outside:
        messages.append(f"unauthorized networks: {', '.join(sorted(set(outside)))}")
    return messages


def _within(cidr: str, allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether ``cidr`` is one of, or inside one of, ``allowed`` (an unreadable one is not)."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return any(
        network.version == parent.version and network.subnet_of(parent)  # type: ignore[arg-type]
        for parent in allowed
    )


@kind("GCPGKEPrivateClusterConstraintV1", CLUSTER_ONLY)
def private_cluster(asset: Asset, constraint: Constraint) -> list[str]:
    """Private nodes have no external IP. GKE now fills ``privateClusterConfig`` (endpoints)
    for public clusters too, so the flag is read, in its current place or its deprecated one;
    a node pool can also opt out on its own."""
    cluster = _cluster(asset)
    private = _is_true(_get(cluster, "privateClusterConfig", "enablePrivateNodes")) or _is_true(
        _get(cluster, "networkConfig", "defaultEnablePrivateNodes")
    )
    messages = [] if private else ["cluster is not private (nodes get external IPs)"]
    for name, pool in _node_pools(asset):
        if _get(pool, "networkConfig", "enablePrivateNodes") is False and private:
            messages.append(f"node pool {name}: public nodes")
    return messages


@kind("GCPGKERestrictClientAuthenticationMethodsConstraintV1", CLUSTER_ONLY)
def client_auth_methods(asset: Asset, constraint: Constraint) -> list[str]:
    """Static passwords and client certificates cannot be revoked or tied to an IAM identity;
    clusters older than 1.12 got both when ``masterAuth`` was left out."""
    cluster = _cluster(asset)
    master_auth = cluster.get("masterAuth")
    version = _minor_version(cluster)
    if not master_auth and version is not None and version < _SAFE_AUTH_DEFAULTS_SINCE:
        return ["pre-1.12 cluster without masterAuth: password and client certificate on"]
    messages = []
    if _get(master_auth, "username") or _get(master_auth, "password"):
        messages.append("static password authentication on")
    if _is_true(_get(master_auth, "clientCertificateConfig", "issueClientCertificate")) or _get(
        master_auth, "clientCertificate"
    ):
        messages.append("client certificate authentication on")
    return messages


@kind("GCPGKERestrictPodTrafficConstraintV1", CLUSTER_ONLY)
def pod_traffic_restricted(asset: Asset, constraint: Constraint) -> list[str]:
    """Pods can be fenced only where NetworkPolicy is enforced: by the Calico add-on
    (``networkPolicy.enabled`` with the add-on not disabled) or natively by Dataplane V2."""
    cluster = _cluster(asset)
    if _get(cluster, "networkConfig", "datapathProvider") == "ADVANCED_DATAPATH":
        return []
    if not _is_true(_get(cluster, "networkPolicy", "enabled")):
        return ["network policy enforcement off"]
    if _is_true(_get(cluster, "addonsConfig", "networkPolicyConfig", "disabled")):
        return ["network policy add-on disabled"]
    return []
