"""The GKE constraint kinds, each on a compliant and a violating cluster in Cloud Asset
Inventory's shape (``tests/data/compliance/gke_cluster.json`` complies with every constraint of
the landing zone; each test changes the fields its kind reads)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

import lzsync.logic.compliance.kinds.gke  # noqa: F401  (registers the checks)
from lzsync.devtools import landing_zone
from lzsync.devtools.simulator import Simulator
from lzsync.logic import asset_types
from lzsync.logic.compliance.registry import Constraint, registered

DATA = Path(__file__).parent.parent / "data" / "compliance"
BASE: dict[str, Any] = json.loads((DATA / "gke_cluster.json").read_text())
DELETE = object()
CONSTRAINTS_DIR = "policy-library/policies/constraints"
# The landing zone's own parameters (gke_master_authorized_networks_enabled.yaml); every other
# GKE constraint of the landing zone has `parameters: {}`.
LZ_AUTHORIZED_NETWORKS = {"authorized_networks": ["35.187.118.0/24"]}
GKE_KINDS = (
    "GCPGKEAllowedNodeSAConstraintV1",
    "GCPGKEContainerOptimizedOSConstraintV1",
    "GCPGKEDashboardConstraintV1",
    "GCPGKEDisableDefaultServiceAccountConstraintV1",
    "GCPGKEDisableLegacyEndpointsConstraintV1",
    "GCPGKEEnableAliasIPRangesConstraintV1",
    "GCPGKELegacyAbacConstraintV1",
    "GCPGKEMasterAuthorizedNetworksEnabledConstraintV1",
    "GCPGKENodeAutoRepairConstraintV1",
    "GCPGKENodeAutoUpgradeConstraintV1",
    "GCPGKEPrivateClusterConstraintV1",
    "GCPGKERestrictClientAuthenticationMethodsConstraintV1",
    "GCPGKERestrictPodTrafficConstraintV1",
)


def cluster(**changes: Any) -> dict[str, Any]:
    """The reference cluster with ``resource.data`` fields changed: keys are dotted paths below
    ``resource.data`` (``nodePools.1.config.imageType``); ``DELETE`` removes the field."""
    asset = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node: Any = asset["resource"]["data"]
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node.setdefault(step, {})
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return asset


def check(kind: str, asset: dict[str, Any], **parameters: Any) -> list[str]:
    constraint = Constraint(name="test", kind=kind, severity="high", parameters=parameters)
    return registered()[kind].check(asset, constraint)


def both_pools(path: str, value: Any) -> dict[str, Any]:
    """Changes for the same field of both node pools of the reference cluster."""
    return {f"nodePools.0.{path}": value, f"nodePools.1.{path}": value}


# --- the landing zone's constraints -----------------------------------------------------------
def test_every_gke_kind_of_the_landing_zone_is_registered_for_cluster_assets(
    landing_zone_source: Path,
):
    files = landing_zone.git(landing_zone_source, "ls-tree", "--name-only", "main", "-r")
    gke_files = [f for f in files.splitlines() if re.search(rf"^{CONSTRAINTS_DIR}/gke_", f)]
    kinds = set()
    for path in gke_files:
        text = landing_zone.git(landing_zone_source, "show", f"main:{path}")
        kinds.update(re.findall(r"^kind: (\S+)", text, flags=re.MULTILINE))
    assert kinds == set(GKE_KINDS)
    assert "35.187.118.0/24" in landing_zone.git(
        landing_zone_source,
        "show",
        f"main:{CONSTRAINTS_DIR}/gke_master_authorized_networks_enabled.yaml",
    )
    for kind in GKE_KINDS:
        assert registered()[kind].asset_types == (asset_types.CLUSTER,)


@pytest.mark.parametrize("kind", GKE_KINDS)
def test_the_reference_cluster_complies_with_each_landing_zone_constraint(kind):
    parameters = LZ_AUTHORIZED_NETWORKS if "MasterAuthorized" in kind else {}
    assert check(kind, cluster(), **parameters) == []


def test_a_simulated_cluster_is_judged_on_what_its_asset_says():
    """The simulator's clusters name their pools only: every node-pool setting is unknown."""
    sim = Simulator(2_000)
    asset = next(a for a in sim.assets() if a["assetType"] == asset_types.CLUSTER)
    failing = {kind for kind in GKE_KINDS if check(kind, asset)}
    assert "GCPGKEPrivateClusterConstraintV1" not in failing
    assert "GCPGKELegacyAbacConstraintV1" not in failing
    assert check("GCPGKENodeAutoRepairConstraintV1", asset) == [
        "node pool default: auto-repair off"
    ]
    assert "GCPGKEEnableAliasIPRangesConstraintV1" in failing


# --- GCPGKEAllowedNodeSAConstraintV1 ----------------------------------------------------------
SCOPES = "GCPGKEAllowedNodeSAConstraintV1"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def test_a_node_scope_beyond_the_hardening_defaults_is_reported_with_its_pool():
    asset = cluster(**{"nodePools.1.config.oauthScopes": [CLOUD_PLATFORM]})
    assert check(SCOPES, asset) == [f"node pool pool-batch: scopes not allowed: {CLOUD_PLATFORM}"]


def test_the_oauth_scopes_parameter_replaces_the_default_list():
    asset = cluster(**both_pools("config.oauthScopes", [CLOUD_PLATFORM]))
    assert check(SCOPES, asset, oauth_scopes=[CLOUD_PLATFORM]) == []
    assert len(check(SCOPES, cluster(), oauth_scopes=[CLOUD_PLATFORM])) == 2


def test_an_empty_oauth_scopes_parameter_allows_no_scope():
    assert check(SCOPES, cluster(), oauth_scopes=[]) == [
        "node pool default-pool: scopes not allowed: "
        "https://www.googleapis.com/auth/devstorage.read_only, "
        "https://www.googleapis.com/auth/logging.write, "
        "https://www.googleapis.com/auth/monitoring",
        "node pool pool-batch: scopes not allowed: https://www.googleapis.com/auth/logging.write",
    ]


def test_a_pool_without_scopes_and_a_cluster_without_pools_have_nothing_to_report():
    assert check(SCOPES, cluster(**both_pools("config.oauthScopes", DELETE))) == []
    assert check(SCOPES, cluster(nodePools=DELETE)) == []


# --- GCPGKEContainerOptimizedOSConstraintV1 ---------------------------------------------------
COS = "GCPGKEContainerOptimizedOSConstraintV1"


def test_cos_containerd_is_refused_unless_the_constraint_allows_it():
    asset = cluster(**{"nodePools.0.config.imageType": "COS_CONTAINERD"})
    assert check(COS, asset) == [
        "node pool default-pool: image COS_CONTAINERD is not Container-Optimized OS"
    ]
    assert check(COS, asset, cos_containerd_allowed=True) == []
    assert check(COS, asset, cos_containerd_allowed=False) != []


def test_an_ubuntu_node_image_is_refused_even_when_containerd_is_allowed():
    asset = cluster(**{"nodePools.1.config.imageType": "UBUNTU_CONTAINERD"})
    assert check(COS, asset, cos_containerd_allowed=True) == [
        "node pool pool-batch: image UBUNTU_CONTAINERD is not Container-Optimized OS"
    ]


def test_a_pool_with_no_image_type_is_not_shown_to_run_cos():
    asset = cluster(**{"nodePools.0.config": DELETE})
    assert check(COS, asset) == ["node pool default-pool: no image"]


# --- GCPGKEDashboardConstraintV1 --------------------------------------------------------------
DASHBOARD = "GCPGKEDashboardConstraintV1"


def test_an_enabled_dashboard_is_reported():
    asset = cluster(**{"addonsConfig.kubernetesDashboard.disabled": False})
    assert check(DASHBOARD, asset) == ["Kubernetes Dashboard enabled"]
    assert check(DASHBOARD, cluster(**{"addonsConfig.kubernetesDashboard": {}})) == [
        "Kubernetes Dashboard enabled"
    ]


def test_a_silent_dashboard_setting_passes_only_where_gke_no_longer_offers_it():
    assert check(DASHBOARD, cluster(addonsConfig=DELETE)) == []
    old = cluster(addonsConfig=DELETE, currentMasterVersion="1.14.10-gke.50")
    assert check(DASHBOARD, old) == ["Kubernetes Dashboard not shown disabled"]
    unknown = cluster(addonsConfig=DELETE, currentMasterVersion=DELETE)
    assert check(DASHBOARD, unknown) == ["Kubernetes Dashboard not shown disabled"]


# --- GCPGKEDisableDefaultServiceAccountConstraintV1 -------------------------------------------
DEFAULT_SA = "GCPGKEDisableDefaultServiceAccountConstraintV1"


@pytest.mark.parametrize(
    "account", ["default", "401234567890-compute@developer.gserviceaccount.com", DELETE]
)
def test_nodes_on_the_default_compute_account_are_reported(account):
    asset = cluster(**{"nodePools.0.config.serviceAccount": account})
    assert check(DEFAULT_SA, asset) == [
        "node pool default-pool: runs as the default service account"
    ]


# --- GCPGKEDisableLegacyEndpointsConstraintV1 -------------------------------------------------
LEGACY_ENDPOINTS = "GCPGKEDisableLegacyEndpointsConstraintV1"


@pytest.mark.parametrize("metadata", [{"disable-legacy-endpoints": "false"}, {}, DELETE])
def test_legacy_metadata_endpoints_must_be_explicitly_disabled(metadata):
    asset = cluster(**{"nodePools.1.config.metadata": metadata})
    assert check(LEGACY_ENDPOINTS, asset) == [
        "node pool pool-batch: legacy metadata endpoints not disabled"
    ]


# --- GCPGKEEnableAliasIPRangesConstraintV1 ----------------------------------------------------
ALIAS_IP = "GCPGKEEnableAliasIPRangesConstraintV1"


@pytest.mark.parametrize(
    "changes",
    [
        {"ipAllocationPolicy.useIpAliases": False},
        {"ipAllocationPolicy": {"stackType": "IPV4"}},
        {"ipAllocationPolicy": DELETE},
    ],
)
def test_a_routes_based_cluster_is_reported(changes):
    assert check(ALIAS_IP, cluster(**changes)) == ["alias IP ranges off (routes-based cluster)"]


# --- GCPGKELegacyAbacConstraintV1 -------------------------------------------------------------
ABAC = "GCPGKELegacyAbacConstraintV1"


@pytest.mark.parametrize("enabled", [True, "true"])
def test_legacy_abac_is_reported_however_the_export_spells_true(enabled):
    assert check(ABAC, cluster(**{"legacyAbac.enabled": enabled})) == ["legacy ABAC enabled"]
    assert check(ABAC, cluster(**{"legacyAbac.enabled": False})) == []


# --- GCPGKEMasterAuthorizedNetworksEnabledConstraintV1 ----------------------------------------
MAN = "GCPGKEMasterAuthorizedNetworksEnabledConstraintV1"
MAN_OFF = "master authorized networks off (control plane open to 0.0.0.0/0)"


@pytest.mark.parametrize(
    "changes",
    [{"masterAuthorizedNetworksConfig.enabled": False}, {"masterAuthorizedNetworksConfig": DELETE}],
)
def test_a_control_plane_without_authorized_networks_is_reported(changes):
    assert check(MAN, cluster(**changes)) == [MAN_OFF]
    assert check(MAN, cluster(**changes), **LZ_AUTHORIZED_NETWORKS) == [MAN_OFF]


def test_authorized_blocks_must_lie_inside_the_allowed_networks():
    blocks = [
        {"cidrBlock": "35.187.118.0/24"},  # the allowed network itself
        {"cidrBlock": "35.187.118.128/26"},
        {"cidrBlock": "0.0.0.0/0"},
        {"cidrBlock": "2001:db8::/32"},
        {"cidrBlock": "not-a-cidr"},
    ]
    asset = cluster(**{"masterAuthorizedNetworksConfig.cidrBlocks": blocks})
    assert check(MAN, asset, **LZ_AUTHORIZED_NETWORKS) == [
        "unauthorized networks: 0.0.0.0/0, 2001:db8::/32, not-a-cidr"
    ]


def test_without_the_parameter_any_authorized_block_is_accepted():
    asset = cluster(**{"masterAuthorizedNetworksConfig.cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]})
    assert check(MAN, asset) == []


def test_an_empty_allowed_list_accepts_the_feature_only_with_no_blocks():
    assert check(MAN, cluster(), authorized_networks=[]) == [
        "unauthorized networks: 35.187.118.0/25"
    ]
    no_blocks = cluster(**{"masterAuthorizedNetworksConfig.cidrBlocks": DELETE})
    assert check(MAN, no_blocks, authorized_networks=[]) == []


def test_an_unreadable_allowed_network_fails_closed():
    assert check(MAN, cluster(), authorized_networks=["35.187.118.0/24", "corp"]) == [
        "constraint parameter authorized_networks: invalid CIDR corp"
    ]


# --- GCPGKENodeAutoRepairConstraintV1 / GCPGKENodeAutoUpgradeConstraintV1 ---------------------
@pytest.mark.parametrize(
    ("kind", "field", "message"),
    [
        ("GCPGKENodeAutoRepairConstraintV1", "autoRepair", "auto-repair off"),
        ("GCPGKENodeAutoUpgradeConstraintV1", "autoUpgrade", "auto-upgrade off"),
    ],
)
def test_node_management_must_be_on_in_every_pool(kind, field, message):
    assert check(kind, cluster(**{f"nodePools.1.management.{field}": False})) == [
        f"node pool pool-batch: {message}"
    ]
    assert check(kind, cluster(**{"nodePools.0.management": DELETE})) == [
        f"node pool default-pool: {message}"
    ]
    # Old CAI exports carry this boolean as a string.
    assert check(kind, cluster(**both_pools(f"management.{field}", "true"))) == []


# --- GCPGKEPrivateClusterConstraintV1 ---------------------------------------------------------
PRIVATE = "GCPGKEPrivateClusterConstraintV1"
NOT_PRIVATE = "cluster is not private (nodes get external IPs)"


def test_a_cluster_with_only_endpoint_details_is_not_private():
    """GKE reports endpoints under privateClusterConfig for public clusters too."""
    public = {"privateEndpoint": "10.0.0.2", "publicEndpoint": "34.76.10.20"}
    assert check(PRIVATE, cluster(privateClusterConfig=public)) == [NOT_PRIVATE]
    assert check(PRIVATE, cluster(privateClusterConfig=DELETE)) == [NOT_PRIVATE]


def test_private_nodes_may_be_set_where_gke_now_keeps_the_flag():
    asset = cluster(
        privateClusterConfig=DELETE, **{"networkConfig.defaultEnablePrivateNodes": True}
    )
    assert check(PRIVATE, asset) == []


def test_a_node_pool_that_opts_out_of_private_nodes_is_reported():
    asset = cluster(**{"nodePools.1.networkConfig": {"enablePrivateNodes": False}})
    assert check(PRIVATE, asset) == ["node pool pool-batch: public nodes"]


# --- GCPGKERestrictClientAuthenticationMethodsConstraintV1 ------------------------------------
CLIENT_AUTH = "GCPGKERestrictClientAuthenticationMethodsConstraintV1"


@pytest.mark.parametrize(
    ("master_auth", "messages"),
    [
        ({"username": "admin"}, ["static password authentication on"]),
        (
            {"clientCertificateConfig": {"issueClientCertificate": True}},
            ["client certificate authentication on"],
        ),
        ({"clientCertificate": "LS0tLS1CRUdJTi..."}, ["client certificate authentication on"]),
        (
            {"username": "admin", "clientCertificateConfig": {"issueClientCertificate": True}},
            ["static password authentication on", "client certificate authentication on"],
        ),
    ],
)
def test_password_and_certificate_authentication_are_reported(master_auth, messages):
    assert check(CLIENT_AUTH, cluster(masterAuth=master_auth)) == messages


def test_a_missing_master_auth_is_safe_only_from_gke_1_12():
    assert check(CLIENT_AUTH, cluster(masterAuth=DELETE)) == []
    for version in ("1.11.10-gke.5", "1.9.7-gke.11"):
        assert check(CLIENT_AUTH, cluster(masterAuth=DELETE, currentMasterVersion=version)) == [
            "pre-1.12 cluster without masterAuth: password and client certificate on"
        ]
    old_but_locked = {"clientCertificateConfig": {"issueClientCertificate": False}}
    asset = cluster(masterAuth=old_but_locked, currentMasterVersion="1.11.10-gke.5")
    assert check(CLIENT_AUTH, asset) == []


# --- GCPGKERestrictPodTrafficConstraintV1 -----------------------------------------------------
POD_TRAFFIC = "GCPGKERestrictPodTrafficConstraintV1"


def test_a_cluster_without_network_policy_enforcement_is_reported():
    assert check(POD_TRAFFIC, cluster(networkPolicy=DELETE)) == ["network policy enforcement off"]
    asset = cluster(**{"networkPolicy.enabled": False})
    assert check(POD_TRAFFIC, asset) == ["network policy enforcement off"]


def test_network_policy_with_its_add_on_disabled_is_reported():
    asset = cluster(**{"addonsConfig.networkPolicyConfig.disabled": True})
    assert check(POD_TRAFFIC, asset) == ["network policy add-on disabled"]


def test_dataplane_v2_enforces_network_policy_without_the_add_on():
    asset = cluster(
        networkPolicy=DELETE,
        **{
            "networkConfig.datapathProvider": "ADVANCED_DATAPATH",
            "addonsConfig.networkPolicyConfig.disabled": True,
        },
    )
    assert check(POD_TRAFFIC, asset) == []
