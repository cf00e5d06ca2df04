"""A simulated landing zone: a deterministic organisation shaped like a real GCP foundation.

The shape follows the bundled landing zone (terraform-example-foundation): an organisation
with bootstrap, common, network and per-environment folders; seed and CI/CD projects; shared
logging, billing-export, KMS and secrets projects; one shared-VPC host per environment with
subnets in two regions, firewall rules and Cloud Routers; then workload projects per business
unit and environment with instances, disks, GKE clusters, buckets and service accounts.

Assets are generated on demand from ``(seed, index, version)``, never held in memory, so the
estate scales from 100 to 1,000,000 assets. ``version`` advances the estate: each step updates,
deletes and creates a deterministic share of assets, which is what a re-run or the real-time
layer sees change. Every asset is in the JSON shape of Cloud Asset Inventory's ``Asset``
(camelCase), with real asset types, names and ``resource.data`` fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from lzsync.devtools import simulated_compliance as sc
from lzsync.logic import asset_types as t

ENVIRONMENTS: Final = (("d", "development"), ("n", "nonproduction"), ("p", "production"))
REGIONS: Final = ("europe-west1", "europe-west4")
BUSINESS_UNITS: Final = 4
COMPUTE_API: Final = "https://www.googleapis.com/compute/v1"
_EPOCH: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_STEP: Final = timedelta(minutes=5)
# One workload project's assets, in slot order.
WORKLOAD_SLOTS: Final[tuple[str, ...]] = (
    (t.PROJECT,)
    + (t.BUCKET,) * 3
    + (t.SERVICE_ACCOUNT,) * 4
    + (t.CLUSTER,)
    + (t.INSTANCE,) * 20
    + (t.DISK,) * 20
)
_DISCOVERY: Final = {
    "compute.googleapis.com": "https://www.googleapis.com/discovery/v1/apis/compute/v1/rest",
    "storage.googleapis.com": "https://www.googleapis.com/discovery/v1/apis/storage/v1/rest",
    "container.googleapis.com": "https://container.googleapis.com/$discovery/rest",
    "iam.googleapis.com": "https://iam.googleapis.com/$discovery/rest",
    "sqladmin.googleapis.com": "https://sqladmin.googleapis.com/$discovery/rest",
    "bigquery.googleapis.com": "https://bigquery.googleapis.com/$discovery/rest",
    "dns.googleapis.com": "https://dns.googleapis.com/$discovery/rest",
    "appengine.googleapis.com": "https://appengine.googleapis.com/$discovery/rest",
    "serviceusage.googleapis.com": "https://serviceusage.googleapis.com/$discovery/rest",
    "cloudkms.googleapis.com": "https://cloudkms.googleapis.com/$discovery/rest",
    "cloudresourcemanager.googleapis.com": (
        "https://cloudresourcemanager.googleapis.com/$discovery/rest"
    ),
}


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) for these parts."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _number(*parts: object, digits: int = 12) -> int:
    return int(10 ** (digits - 1) + int(_unit(*parts) * 9 * 10 ** (digits - 1)))


@dataclass(frozen=True)
class Project:
    project_id: str
    number: int
    folder: str  # folders/N
    environment: str


@dataclass(frozen=True)
class Simulator:
    """``size`` assets at version 0; ``update_share``/``delete_share``/``create_share`` of them
    change at every version step.

    ``defect_share`` asks for the compliance estate (see :mod:`simulated_compliance`): None
    keeps the classic estate, unchanged byte for byte; a share in [0, 1] hardens every asset,
    adds the types the remaining constraint kinds judge, and gives that share of the assets
    that can carry a defect exactly one (:meth:`defect_at` says which). The choice is redrawn
    at each update of an asset, so the real-time layer sees assets turn non-compliant and
    compliant again."""

    size: int
    seed: int = 7
    update_share: float = 0.01
    delete_share: float = 0.002
    create_share: float = 0.003
    defect_share: float | None = None

    # --- the skeleton ------------------------------------------------------------------------
    @property
    def organization(self) -> str:
        return f"organizations/{_number(self.seed, 'org')}"

    def folder(self, name: str) -> str:
        return f"folders/{_number(self.seed, 'folder', name)}"

    def _core_projects(self) -> list[Project]:
        core = [
            ("prj-b-seed", "bootstrap"),
            ("prj-b-cicd", "bootstrap"),
            ("prj-c-logging", "common"),
            ("prj-c-billing-export", "common"),
            ("prj-c-kms", "common"),
            ("prj-c-secrets", "common"),
            ("prj-net-dns", "network"),
            ("prj-net-interconnect", "network"),
        ]
        core += [(f"prj-{code}-svpc", name) for code, name in ENVIRONMENTS]
        return [self._project(project_id, folder) for project_id, folder in core]

    def _project(self, project_id: str, folder: str) -> Project:
        suffix = f"{int(_unit(self.seed, project_id) * 0xFFFF):04x}"
        return Project(
            f"{project_id}-{suffix}", _number(self.seed, project_id), self.folder(folder), folder
        )

    def _skeleton(self) -> list[dict[str, Any]]:
        """The organisation, folders, core projects, networks and keys: fixed, small."""
        org_number = self.organization.split("/")[1]
        assets = [
            self._asset(
                t.ORGANIZATION,
                f"//cloudresourcemanager.googleapis.com/{self.organization}",
                {
                    "displayName": "example.com",
                    "owner": {"directoryCustomerId": "C0xample"},
                    "lifecycleState": "ACTIVE",
                },
                ancestors=[self.organization],
                location="global",
            )
        ]
        folders = ["bootstrap", "common", "network"] + [name for _, name in ENVIRONMENTS]
        for folder in folders:
            number = self.folder(folder).split("/")[1]
            assets.append(
                self._asset(
                    t.FOLDER,
                    f"//cloudresourcemanager.googleapis.com/folders/{number}",
                    {
                        "displayName": f"fldr-{folder}",
                        "parent": self.organization,
                        "lifecycleState": "ACTIVE",
                    },
                    ancestors=[self.folder(folder), self.organization],
                    location="global",
                )
            )
        for project in self._core_projects():
            assets.append(self._project_asset(project))
        for code, environment in ENVIRONMENTS:
            host = self._project(f"prj-{code}-svpc", environment)
            assets.extend(self._network(host, code))
            assets.append(
                self._asset(
                    t.FIREWALL_POLICY,
                    f"//compute.googleapis.com/locations/global/firewallPolicies/"
                    f"{_number(self.seed, 'fwp', code)}",
                    {
                        "shortName": f"fp-{code}-hierarchical",
                        "rules": [{}] * 6,
                        "associations": [{"attachmentTarget": self.folder(environment)}],
                    },
                    ancestors=[self.folder(environment), self.organization],
                    location="global",
                )
            )
        kms = self._project("prj-c-kms", "common")
        for region in REGIONS[:1]:
            ring = (
                f"//cloudkms.googleapis.com/projects/{kms.project_id}/locations/{region}"
                "/keyRings/sample-keyring"
            )
            assets.append(
                self._asset(
                    t.KEY_RING,
                    ring,
                    {"createTime": _EPOCH.isoformat()},
                    project=kms,
                    location=region,
                )
            )
            for code, _ in ENVIRONMENTS:
                assets.append(
                    self._asset(
                        t.CRYPTO_KEY,
                        f"{ring}/cryptoKeys/key-{code}",
                        {
                            "purpose": "ENCRYPT_DECRYPT",
                            "rotationPeriod": "7776000s",
                            "versionTemplate": {"protectionLevel": "SOFTWARE"},
                            "primary": {"state": "ENABLED"},
                        },
                        project=kms,
                        location=region,
                    )
                )
        del org_number
        return assets

    def _network(self, host: Project, code: str) -> list[dict[str, Any]]:
        hardened = self.defect_share is not None
        base = f"//compute.googleapis.com/projects/{host.project_id}"
        vpc = f"vpc-{code}-svpc"
        network_url = f"{COMPUTE_API}/projects/{host.project_id}/global/networks/{vpc}"
        assets = [
            self._asset(
                t.NETWORK,
                f"{base}/global/networks/{vpc}",
                {
                    "name": vpc,
                    "autoCreateSubnetworks": False,
                    "mtu": 1460,
                    "routingConfig": {"routingMode": "GLOBAL"},
                    "subnetworks": [f"sb-{code}-{i}" for i in range(4)],
                },
                project=host,
                location="global",
            )
        ]
        for index, region in enumerate(REGIONS):
            env_octet = {"d": 0, "n": 1, "p": 2}[code]
            for tier in range(2):
                name = f"sb-{code}-svpc-{region}-{tier}"
                assets.append(
                    self._asset(
                        t.SUBNETWORK,
                        f"{base}/regions/{region}/subnetworks/{name}",
                        {
                            "name": name,
                            "ipCidrRange": f"10.{env_octet * 16 + index * 4 + tier}.0.0/18",
                            "network": network_url,
                            "region": region,
                            "privateIpGoogleAccess": True,
                            "purpose": "PRIVATE",
                            "logConfig": {"enable": code == "p" or hardened},
                            "secondaryIpRanges": [
                                {"rangeName": "pods", "ipCidrRange": f"100.{64 + env_octet}.0.0/16"}
                            ],
                        },
                        project=host,
                        location=region,
                    )
                )
            assets.append(
                self._asset(
                    t.ROUTER,
                    f"{base}/regions/{region}/routers/cr-{code}-{region}-nat",
                    {
                        "name": f"cr-{code}-{region}-nat",
                        "network": network_url,
                        "region": region,
                        "bgp": {"asn": 64514},
                        "nats": [{"name": "nat"}],
                    },
                    project=host,
                    location=region,
                )
            )
        rules = {
            "fw-allow-iap-ssh": (
                "INGRESS",
                1000,
                ["35.235.240.0/20"],
                [{"IPProtocol": "tcp", "ports": ["22"]}],
            ),
            "fw-allow-lb-health": (
                "INGRESS",
                1000,
                ["35.191.0.0/16", "130.211.0.0/22"],
                [{"IPProtocol": "tcp"}],
            ),
            "fw-allow-google-apis": (
                "EGRESS",
                65534,
                None,
                [{"IPProtocol": "tcp", "ports": ["443"]}],
            ),
            "fw-deny-all-egress": ("EGRESS", 65535, None, None),
        }
        for name, (direction, priority, sources, allowed) in rules.items():
            data: dict[str, Any] = {
                "name": f"{name}-{code}",
                "network": network_url,
                "direction": direction,
                "priority": priority,
                "disabled": False,
            }
            if sources:
                data["sourceRanges"] = sources
            if allowed:
                data["allowed"] = allowed
            else:
                data["denied"] = [{"IPProtocol": "all"}]
                data["destinationRanges"] = ["0.0.0.0/0"]
            assets.append(
                self._asset(
                    t.FIREWALL,
                    f"{base}/global/firewalls/{name}-{code}",
                    data,
                    project=host,
                    location="global",
                )
            )
        return assets

    # --- workload projects ---------------------------------------------------------------------
    @property
    def workload_slots(self) -> tuple[str, ...]:
        """One workload project's asset types, in slot order."""
        if self.defect_share is None:
            return WORKLOAD_SLOTS
        return WORKLOAD_SLOTS + sc.COMPLIANCE_SLOTS

    def _placement(self, project: Project, slot: int) -> sc.Placement:
        asset_type = self.workload_slots[slot]
        ordinal = self.workload_slots[:slot].count(asset_type)
        code = project.project_id.split("-")[1]
        host = self._project(f"prj-{code}-svpc", project.environment)
        return sc.Placement(
            project.project_id,
            project.number,
            host.project_id,
            code,
            REGIONS[ordinal % len(REGIONS)],
            ordinal,
        )

    def _workload_project(self, number: int) -> Project:
        code, environment = ENVIRONMENTS[number % len(ENVIRONMENTS)]
        unit = (number // len(ENVIRONMENTS)) % BUSINESS_UNITS + 1
        app = number // (len(ENVIRONMENTS) * BUSINESS_UNITS) + 1
        return self._project(f"prj-{code}-bu{unit}-app{app}", environment)

    def _workload_asset(self, project: Project, slot: int, revision: int) -> dict[str, Any]:
        asset_type = self.workload_slots[slot]
        if slot >= len(WORKLOAD_SLOTS):
            return self._compliance_asset(project, slot)
        ordinal = WORKLOAD_SLOTS[:slot].count(asset_type)
        region = REGIONS[ordinal % len(REGIONS)]
        zone = f"{region}-{'bcd'[ordinal % 3]}"
        pid = project.project_id
        code = project.project_id.split("-")[1]
        host = self._project(f"prj-{code}-svpc", project.environment).project_id
        host_network = f"projects/{host}/global/networks/vpc-{code}-svpc"
        host_subnet = f"projects/{host}/regions/{region}/subnetworks/sb-{code}-svpc-{region}-0"
        zone_url = f"{COMPUTE_API}/projects/{pid}/zones/{zone}"
        labels = {"environment": project.environment, "application": pid.split("-")[3]}
        if revision:
            labels["revision"] = str(revision)
        if asset_type == t.PROJECT:
            return self._project_asset(project, labels=labels)
        if asset_type == t.BUCKET:
            name = f"bkt-{pid}-{ordinal}"
            return self._asset(
                t.BUCKET,
                f"//storage.googleapis.com/{name}",
                {
                    "name": name,
                    "location": "EU",
                    "storageClass": "STANDARD",
                    "labels": labels,
                    "iamConfiguration": {
                        "uniformBucketLevelAccess": {"enabled": True},
                        "publicAccessPrevention": "enforced",
                    },
                    "versioning": {"enabled": ordinal == 0},
                    "timeCreated": _EPOCH.isoformat(),
                },
                project=project,
                location="eu",
            )
        if asset_type == t.SERVICE_ACCOUNT:
            unique = _number(self.seed, pid, "sa", ordinal, digits=21)
            return self._asset(
                t.SERVICE_ACCOUNT,
                f"//iam.googleapis.com/projects/{pid}/serviceAccounts/{unique}",
                {
                    "email": f"sa-app-{ordinal}@{pid}.iam.gserviceaccount.com",
                    "displayName": f"App service account {ordinal}",
                    "disabled": revision % 2 == 1,
                    "uniqueId": str(unique),
                },
                project=project,
                location="global",
            )
        if asset_type == t.CLUSTER:
            return self._asset(
                t.CLUSTER,
                f"//container.googleapis.com/projects/{pid}/locations/{region}/clusters/gke-{code}",
                {
                    "name": f"gke-{code}",
                    "status": "RUNNING",
                    "currentMasterVersion": "1.33.4-gke.1000",
                    "currentNodeCount": 3 + revision,
                    "nodePools": [{"name": "default"}],
                    "network": host_network,
                    "subnetwork": host_subnet,
                    "privateClusterConfig": {"enablePrivateNodes": True},
                    "releaseChannel": {"channel": "REGULAR"},
                    "resourceLabels": labels,
                    "createTime": _EPOCH.isoformat(),
                },
                project=project,
                location=region,
            )
        name = f"vm-{code}-{ordinal:03d}"
        if asset_type == t.DISK:
            return self._asset(
                t.DISK,
                f"//compute.googleapis.com/projects/{pid}/zones/{zone}/disks/{name}",
                {
                    "name": name,
                    "sizeGb": str(20 + 10 * (ordinal % 3)),
                    "status": "READY",
                    "type": f"{zone_url}/diskTypes/pd-balanced",
                    "labels": labels,
                    "creationTimestamp": _EPOCH.isoformat(),
                },
                project=project,
                location=zone,
            )
        return self._asset(
            t.INSTANCE,
            f"//compute.googleapis.com/projects/{pid}/zones/{zone}/instances/{name}",
            {
                "name": name,
                "status": "TERMINATED" if revision % 2 else "RUNNING",
                "machineType": f"{zone_url}/machineTypes/e2-standard-{2 << (ordinal % 3)}",
                "zone": zone_url,
                "canIpForward": False,
                "labels": labels,
                "networkInterfaces": [
                    {
                        "network": f"{COMPUTE_API}/{host_network}",
                        "subnetwork": f"{COMPUTE_API}/{host_subnet}",
                        "networkIP": f"10.{ordinal}.{project.number % 250}.{2 + ordinal}",
                    }
                ],
                "disks": [{"boot": True, "deviceName": name}],
                "creationTimestamp": _EPOCH.isoformat(),
            },
            project=project,
            location=zone,
        )

    def _compliance_asset(self, project: Project, slot: int) -> dict[str, Any]:
        """An asset of a slot only the compliance estate has; firewall rules and subnets belong
        to the environment's shared-VPC host, as in the landing zone."""
        place = self._placement(project, slot)
        asset_type = self.workload_slots[slot]
        name, data, location = sc.compliance_shape(asset_type, place)
        owner = project
        if asset_type in (t.FIREWALL, t.SUBNETWORK):
            owner = self._project(f"prj-{place.code}-svpc", project.environment)
        return self._asset(asset_type, name, data, project=owner, location=location)

    # --- shapes ------------------------------------------------------------------------------
    def _project_asset(
        self, project: Project, labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return self._asset(
            t.PROJECT,
            f"//cloudresourcemanager.googleapis.com/projects/{project.number}",
            {
                "projectId": project.project_id,
                "projectNumber": str(project.number),
                "name": project.project_id,
                "lifecycleState": "ACTIVE",
                "labels": labels or {},
                "parent": {"type": "folder", "id": project.folder.split("/")[1]},
                "createTime": _EPOCH.isoformat(),
            },
            project=project,
            location="global",
        )

    def _asset(
        self,
        asset_type: str,
        name: str,
        data: dict[str, Any],
        *,
        project: Project | None = None,
        ancestors: list[str] | None = None,
        location: str,
        update_time: datetime = _EPOCH,
    ) -> dict[str, Any]:
        service, kind = asset_type.split("/")
        if ancestors is None:
            assert project is not None
            ancestors = [f"projects/{project.number}", project.folder, self.organization]
        parent = (
            f"//cloudresourcemanager.googleapis.com/projects/{project.number}"
            if project is not None
            else f"//cloudresourcemanager.googleapis.com/{ancestors[min(1, len(ancestors) - 1)]}"
        )
        return {
            "name": name,
            "assetType": asset_type,
            "resource": {
                "version": "v1",
                "discoveryDocumentUri": _DISCOVERY[service],
                "discoveryName": kind,
                "parent": parent,
                "data": data,
                "location": location,
            },
            "ancestors": ancestors,
            "updateTime": update_time.isoformat().replace("+00:00", "Z"),
        }

    # --- the estate over time ---------------------------------------------------------------
    def slots(self, version: int = 0) -> int:
        """How many asset indexes exist by ``version`` (deleted ones included)."""
        created = sum(round(self.size * self.create_share) for _ in range(version))
        return max(self.size, len(self._skeleton_cache())) + created

    def _updates(self, index: int, version: int) -> list[int]:
        """The version steps (up to ``version``) at which this asset was updated."""
        return [
            step
            for step in range(1, version + 1)
            if _unit(self.seed, index, "update", step) < self.update_share
        ]

    def _deleted(self, index: int, version: int) -> bool:
        return any(
            _unit(self.seed, index, "delete", step) < self.delete_share
            for step in range(1, version + 1)
        )

    def asset_at(self, index: int, version: int = 0) -> dict[str, Any] | None:
        """The asset at ``index`` (below :meth:`slots`) as of ``version``; None when deleted."""
        skeleton = self._skeleton_cache()
        if index < len(skeleton):
            return skeleton[index]  # the skeleton never changes: deleting it would be absurd
        if self._deleted(index, version):
            return None
        project, slot = self._workload_slot(index)
        updates = self._updates(index, version)
        asset = self._workload_asset(project, slot, len(updates))
        if self.defect_share is not None:
            sc.harden(asset, self._placement(project, slot))
            defect = self._defect(index, project, slot, len(updates))
            if defect is not None:
                sc.apply_defect(asset, defect)
        if updates:
            # The version began when it was last updated, not at every later step.
            last = _EPOCH + _STEP * updates[-1]
            asset["updateTime"] = last.isoformat().replace("+00:00", "Z")
        return asset

    def _workload_slot(self, index: int) -> tuple[Project, int]:
        workload = index - len(self._skeleton_cache())
        slots = len(self.workload_slots)
        return self._workload_project(workload // slots), workload % slots

    def _defect(self, index: int, project: Project, slot: int, revision: int) -> str | None:
        if self.defect_share is None:
            return None
        place = self._placement(project, slot)
        defects = sc.defects_for(self.workload_slots[slot], place.ordinal)
        if not defects or _unit(self.seed, index, "defect", revision) >= self.defect_share:
            return None
        return defects[int(_unit(self.seed, index, "which defect", revision) * len(defects))]

    def defect_at(self, index: int, version: int = 0) -> str | None:
        """The defect the asset at ``index`` carries as of ``version`` (None: hardened, deleted,
        part of the fixed skeleton, or the classic estate)."""
        if self.defect_share is None or index < len(self._skeleton_cache()):
            return None
        if self._deleted(index, version):
            return None
        project, slot = self._workload_slot(index)
        return self._defect(index, project, slot, len(self._updates(index, version)))

    def specimens(self) -> Iterator[tuple[str | None, dict[str, Any]]]:
        """``(defect, asset)`` on request: for every type that can carry a defect, its hardened
        shape (defect None) and one copy per defect, from the first workload project."""
        hardened = replace(self, defect_share=0.0)
        project = hardened._workload_project(0)
        seen: set[str] = set()
        for slot, asset_type in enumerate(hardened.workload_slots):
            place = hardened._placement(project, slot)
            defects = sc.defects_for(asset_type, place.ordinal)
            if asset_type in seen or not defects:
                continue
            seen.add(asset_type)
            asset = hardened._workload_asset(project, slot, 0)
            sc.harden(asset, place)
            yield None, asset
            for defect in defects:
                yield defect, sc.with_defect(asset, defect)

    def _skeleton_cache(self) -> list[dict[str, Any]]:
        key = (self.seed, self.defect_share is not None)
        cache = _SKELETONS.get(key)
        if cache is None:
            cache = _SKELETONS[key] = self._skeleton()
        return cache

    def changes(self, before: int, after: int) -> Iterator[dict[str, Any]]:
        """What moved between two versions, as Cloud Asset Inventory feed messages
        (``TemporalAsset`` JSON: ``asset``, ``priorAsset``, ``priorAssetState``, ``window``,
        ``deleted``), for the real-time layer. A resource feed carries no IAM policy, so
        neither do these."""
        window = {"startTime": (_EPOCH + _STEP * after).isoformat().replace("+00:00", "Z")}
        for index in range(self.slots(after)):
            old = (
                _resource_only(self.asset_at(index, before)) if index < self.slots(before) else None
            )
            new = _resource_only(self.asset_at(index, after))
            if old == new:
                continue
            if new is None:
                assert old is not None
                yield {
                    "asset": {**old, "updateTime": window["startTime"]},
                    "priorAsset": old,
                    "priorAssetState": "PRESENT",
                    "window": window,
                    "deleted": True,
                }
            elif old is None:
                yield {"asset": new, "priorAssetState": "DOES_NOT_EXIST", "window": window}
            else:
                yield {
                    "asset": new,
                    "priorAsset": old,
                    "priorAssetState": "PRESENT",
                    "window": window,
                }

    def assets(self, version: int = 0) -> Iterator[dict[str, Any]]:
        """Every asset as of ``version``, in index order, generated one at a time."""
        for index in range(self.slots(version)):
            asset = self.asset_at(index, version)
            if asset is not None:
                yield asset


def _resource_only(asset: dict[str, Any] | None) -> dict[str, Any] | None:
    if asset is None or "iamPolicy" not in asset:
        return asset
    return {key: value for key, value in asset.items() if key != "iamPolicy"}


_SKELETONS: dict[tuple[int, bool], list[dict[str, Any]]] = {}
