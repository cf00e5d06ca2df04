"""Public list prices (USD) that ``lzsync cost-report`` multiplies its counters by: one table.

Every row names the page it was read from and the day (:data:`PRICES_READ_ON`); prices change,
so re-read them before quoting a figure. Free tiers are listed with their scope; the report
applies them (per day for Firestore, per month otherwise) and prints the price without them too.
The deployed function sizes mirror ``infra/functions.tf`` (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lzsync.metrics import FunctionSize

PRICES_READ_ON: Final = "2026-12-04"

GIB: Final = 1024**3
TIB: Final = 1024**4
MIB: Final = 1024**2


@dataclass(frozen=True)
class Price:
    """One billed quantity: ``usd`` per ``per`` units beyond ``free`` units per ``free_period``."""

    service: str
    item: str
    usd: float
    per: float
    unit: str
    free: float
    free_period: str  # "day", "month", or "" (no free tier)
    source: str


_FIRESTORE = "https://cloud.google.com/firestore/pricing"
_RUN = "https://cloud.google.com/run/pricing"
_PUBSUB = "https://cloud.google.com/pubsub/pricing"
_BIGQUERY = "https://cloud.google.com/bigquery/pricing"
_LOGGING = "https://cloud.google.com/stackdriver/pricing"
_SCHEDULER = "https://cloud.google.com/scheduler/pricing"
_SECRETS = "https://cloud.google.com/secret-manager/pricing"
_ASSET = "https://cloud.google.com/asset-inventory/docs/quota"

# Firestore (Native mode, Standard edition) by location: reads, writes, deletes per 100,000
# documents and stored GiB-month. The free quota (50,000 reads, 20,000 writes, 20,000 deletes a
# day, 1 GiB stored) is for the (default) database only, which is the one infra/ deploys.
FIRESTORE_LOCATIONS: Final[dict[str, tuple[float, float, float, float]]] = {
    "nam5": (0.06, 0.18, 0.02, 0.18),  # multi-region (United States)
    "eur3": (0.06, 0.18, 0.02, 0.18),  # multi-region (Europe)
    "us-central1": (0.03, 0.09, 0.01, 0.15),  # regional
    "europe-west1": (0.03, 0.09, 0.01, 0.15),  # regional
}


def firestore_prices(location: str) -> list[Price]:
    read, write, delete, stored = FIRESTORE_LOCATIONS[location]
    return [
        Price("Firestore", "document reads", read, 100_000, "reads", 50_000, "day", _FIRESTORE),
        Price("Firestore", "document writes", write, 100_000, "writes", 20_000, "day", _FIRESTORE),
        Price(
            "Firestore", "document deletes", delete, 100_000, "deletes", 20_000, "day", _FIRESTORE
        ),
        Price("Firestore", "stored data", stored, GIB, "bytes", GIB, "month", _FIRESTORE),
    ]


# Cloud Run functions (2nd gen) are Cloud Run services: request-based billing, Tier 1 region;
# free tier per billing account per month.
_FN: Final = "Cloud Run functions"
FUNCTIONS: Final = [
    Price("Cloud Run functions", "vCPU-seconds", 0.000024, 1, "vCPU-s", 180_000, "month", _RUN),
    Price("Cloud Run functions", "GiB-seconds", 0.0000025, 1, "GiB-s", 360_000, "month", _RUN),
    Price(
        "Cloud Run functions",
        "requests",
        0.40,
        1_000_000,
        "requests",
        2_000_000,
        "month",
        _RUN,
    ),
]
# Pub/Sub message delivery basic: throughput published + delivered, 1,000 bytes minimum per
# message; first 10 GiB a month free per billing account.
PUBSUB: Final = [
    Price("Pub/Sub", "throughput", 40.0, TIB, "bytes", 10 * GIB, "month", _PUBSUB),
]
# BigQuery on-demand: queries by bytes processed (10 MB minimum per table referenced), active
# logical storage; batch load jobs are free.
BIGQUERY: Final = [
    Price("BigQuery", "query bytes processed", 6.25, TIB, "bytes", TIB, "month", _BIGQUERY),
    Price("BigQuery", "active logical storage", 0.02, GIB, "bytes", 10 * GIB, "month", _BIGQUERY),
    Price("BigQuery", "batch loads", 0.0, 1, "bytes", 0, "", _BIGQUERY),
]
BIGQUERY_MIN_BYTES_PER_QUERY: Final = 10 * MIB
# Cloud Logging ingestion (includes 30 days' retention); first 50 GiB per project a month free.
LOGGING: Final = [
    Price("Cloud Logging", "ingestion", 0.50, GIB, "bytes", 50 * GIB, "month", _LOGGING),
]
# Cloud Scheduler: per job per month, 3 jobs free per billing account.
SCHEDULER: Final = [
    Price("Cloud Scheduler", "jobs", 0.10, 1, "jobs", 3, "month", _SCHEDULER),
]
# Secret Manager: active versions per location, access operations; 6 versions and 10,000
# accesses free per billing account a month.
SECRET_MANAGER: Final = [
    Price("Secret Manager", "active versions", 0.06, 1, "versions", 6, "month", _SECRETS),
    Price(
        "Secret Manager", "access operations", 0.03, 10_000, "accesses", 10_000, "month", _SECRETS
    ),
]
# Cloud Asset Inventory: ListAssets and real-time feeds carry no charge, only quotas (ListAssets
# 100 per minute per consumer project; the feed's Pub/Sub messages are billed as Pub/Sub).
ASSET_INVENTORY: Final = [
    Price("Cloud Asset Inventory", "ListAssets pages, feeds", 0.0, 1, "calls", 0, "", _ASSET),
]

# The original design's hand estimate for 10,000+ resources, the figure lzsync is measured
# against.
ORIGINAL_ESTIMATE_USD_PER_MONTH: Final = 2100.0

# Deployed sizes (infra/functions.tf): memory, and vCPUs (2nd gen gives 0.167 vCPU to 256 MiB
# and 0.333 vCPU to 512 MiB when cpu is not set).
DEPLOYED_SIZES: Final[dict[str, FunctionSize]] = {
    "webhook": FunctionSize(256, 0.167),
    "git_sync": FunctionSize(512, 0.333),
    "asset_snapshot": FunctionSize(512, 0.333),
    "asset_events": FunctionSize(512, 1.0),
    "bq_export": FunctionSize(512, 0.333),
    "freshness_check": FunctionSize(256, 0.167),
}
# Scheduler jobs (infra/scheduler.tf) and secrets (infra/secrets.tf).
SCHEDULER_JOBS: Final = 4
SECRETS: Final = 3
