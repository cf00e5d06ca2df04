"""What the landing zone's 28 constraints must find in the simulator's compliance estate, stated
from the policy-library templates and independently of lzsync's engine.

The simulator names each defect by what is wrong with an asset; this table says which of the
fixture's constraints (by ``metadata.name``) each defect must violate, read from the template
of the constraint's kind and its parameters in the fixture. Counting from it gives the expected
violations of a whole estate without running the engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from lzsync.devtools.simulator import Simulator

WORLD_OPEN: Final = "restrict-firewall-rule-world-open"
SSH_WORLD_OPEN: Final = "restrict-firewall-rule-ssh-world-open"
RDP_WORLD_OPEN: Final = "restrict-firewall-rule-rdp-world-open"

# deny_allusers: GCPIAMAllowedBindingsConstraintV3, denylist of allUsers/allAuthenticatedUsers
# on every role of every asset type.
VIOLATES: Final[dict[str, frozenset[str]]] = {
    name: frozenset(constraints)
    for name, constraints in {
        "bucket_public": {"denylist_public_users", "deny_allusers"},
        "bucket_fine_grained_acl": {"require_bucket_policy_only"},
        "project_viewer_to_everyone": {"deny_allusers"},
        "service_account_public_token_creator": {"deny_allusers"},
        "cluster_public_nodes": {"allow_only_private_cluster"},
        "cluster_default_service_account": {"disable_gke_default_service_account"},
        "cluster_legacy_metadata": {"disable_gke_legacy_endpoints"},
        "cluster_no_auto_repair": {"enable_auto_repair"},
        "cluster_no_auto_upgrade": {"enable_auto_upgrade"},
        "cluster_dashboard": {"disable_gke_dashboard"},
        "cluster_legacy_abac": {"disable_gke_legacy_abac"},
        "cluster_routes_based": {"enable_alias_ip_ranges"},
        # 0.0.0.0/0 is not inside the one authorised network, 35.187.118.0/24.
        "cluster_master_open": {"enable_gke_master_authorized_networks"},
        "cluster_client_certificate": {"gke_restrict_client_auth_methods"},
        "cluster_no_network_policy": {"gke_restrict_pod_traffic"},
        # cloud-platform is beyond the template's default minimal scopes.
        "cluster_wide_scopes": {"gke_allowed_node_service_account_scope_default"},
        "sql_public_ip": {"prevent-public-ip-cloudsql"},
        "sql_no_ssl": {"require_sql_ssl"},
        "dataset_public": {"require_bq_table_iam"},
        "dns_rsasha1_key_signing": {"dnssec_prevent_rsasha1_ksk"},
        "dns_rsasha1_zone_signing": {"dnssec_prevent_rsasha1_zsk"},
        # Three versions serving against the template's default maximum of two.
        "appengine_many_versions": {"service_versions"},
        # ml.googleapis.com is not on allow_basic_set_of_apis's list.
        "api_enabled": {"allow_basic_set_of_apis"},
        "firewall_ssh_world": {SSH_WORLD_OPEN, WORLD_OPEN},
        "firewall_rdp_world": {RDP_WORLD_OPEN, WORLD_OPEN},
        # No ports: every TCP port, 22 and 3389 included.
        "firewall_all_tcp_world": {SSH_WORLD_OPEN, RDP_WORLD_OPEN, WORLD_OPEN},
        "subnet_no_flow_logs": {"enable_network_flow_logs"},
        "subnet_no_private_access": {"enable_network_private_google_access"},
    }.items()
}
# What a hardened asset still violates: GKE 1.24+ only offers COS_CONTAINERD, which the
# Container-Optimized OS template refuses unless cos_containerd_allowed (default false).
BASELINE: Final[dict[str, frozenset[str]]] = {
    "container.googleapis.com/Cluster": frozenset({"gke_container_optimized_os"}),
}
# Defects an IAM policy carries: invisible to a resource-only listing or feed.
IAM_DEFECTS: Final = frozenset(
    {"bucket_public", "project_viewer_to_everyone", "service_account_public_token_creator"}
)


def expected_violations(asset_type: str, defect: str | None) -> frozenset[str]:
    found = BASELINE.get(asset_type, frozenset())
    return found | VIOLATES[defect] if defect is not None else found


@dataclass
class Expected:
    """An estate's expected compliance, tallied the way ``compliance/summary`` reports it."""

    assets: int = 0
    violating_assets: int = 0
    by_constraint: Counter[str] = field(default_factory=Counter)
    defects: Counter[str] = field(default_factory=Counter)


def expected_estate(
    simulator: Simulator,
    version: int = 0,
    *,
    constraint_names: Iterable[str] | None = None,
    excluded: Callable[[dict[str, Any]], frozenset[str]] = lambda asset: frozenset(),
) -> Expected:
    """Expected counts over every asset of ``simulator`` at ``version``; ``excluded(asset)``
    names constraints whose scope leaves the asset out."""
    wanted = None if constraint_names is None else set(constraint_names)
    expected = Expected()
    for index in range(simulator.slots(version)):
        asset = simulator.asset_at(index, version)
        if asset is None:
            continue
        expected.assets += 1
        defect = simulator.defect_at(index, version)
        if defect is not None:
            expected.defects[defect] += 1
        found = expected_violations(asset["assetType"], defect) - excluded(asset)
        if wanted is not None:
            found &= wanted
        if not found:
            continue
        expected.violating_assets += 1
        for name in found:
            expected.by_constraint[name] += 1
    return expected
