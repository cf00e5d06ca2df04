"""From measured per-unit counters to a priced 30-day month: the documented model.

A *unit* is one run of one thing (a scheduled snapshot, a feed event, a push, ...) whose
counters were measured. A month is each unit's counters times how often it happens: the
schedules of ``infra/`` (snapshot every 5 min, git safety net every 6 h, history daily,
freshness every 15 min), the stated changes and pushes a day. A snapshot after changes costs
the unchanged run plus a per-changed-asset part, measured as (changed run - unchanged run) /
changes. Stocks are priced at the month's end: Firestore's measured stored bytes (documents
plus an index allowance) plus 30 days of ``activity`` entries (their TTL), and BigQuery's 30
daily partitions. :func:`scale_assets` carries a measurement to another estate size: counters
of the snapshot's per-asset parts and of storage grow linearly with the estate, the rest not.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from lzsync import metrics, pricing

DAYS_PER_MONTH: Final = 30
SNAPSHOTS_PER_DAY: Final = 24 * 60 // 5
GIT_SCHEDULED_PER_DAY: Final = 24 // 6
HISTORY_PER_DAY: Final = 1
FRESHNESS_PER_DAY: Final = 24 * 60 // 15
# Single-field indexes (automatic, ascending and descending per field) take roughly as much
# again as the documents ("Storage size calculations": an index entry holds the document name
# and the value). An allowance, not a measurement.
INDEX_ALLOWANCE: Final = 1.0


@dataclass
class Unit:
    """Counters measured over ``count`` occurrences of one unit of work."""

    name: str
    count: int
    counters: dict[str, float]
    seconds: float

    def per_one(self, counter: str) -> float:
        return self.counters.get(counter, 0.0) / max(1, self.count)


@dataclass
class Measured:
    assets: int
    units: dict[str, Unit]
    firestore_documents: int
    firestore_stored_bytes: int
    activity_entry_bytes: int
    scaled_from: int | None = None


@dataclass(frozen=True)
class Rates:
    changes_per_day: float
    pushes_per_day: float


@dataclass
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    list_usd: float
    billed_usd: float
    source: str


@dataclass
class Report:
    assets: int
    rates: Rates
    location: str
    monthly: dict[str, float]
    lines: list[Line] = field(default_factory=list)
    one_off: dict[str, float] = field(default_factory=dict)

    @property
    def total_billed(self) -> float:
        return sum(line.billed_usd for line in self.lines)

    @property
    def total_list(self) -> float:
        return sum(line.list_usd for line in self.lines)


def occurrences(rates: Rates) -> dict[str, float]:
    """How many times each measured unit happens in a month."""
    per_day = {
        "snapshot_unchanged": SNAPSHOTS_PER_DAY,
        "snapshot_per_change": rates.changes_per_day,
        "event": rates.changes_per_day,
        "push": rates.pushes_per_day,
        "git_schedule": GIT_SCHEDULED_PER_DAY,
        "history": HISTORY_PER_DAY,
        "freshness": FRESHNESS_PER_DAY,
    }
    return {name: value * DAYS_PER_MONTH for name, value in per_day.items()}


def per_change(measured: Measured) -> dict[str, float]:
    """Counters a snapshot adds per changed asset (never below zero)."""
    changed = measured.units["snapshot_changed"]
    unchanged = measured.units["snapshot_unchanged"]
    changes = max(1, measured.units["snapshot_changes"].count)
    keys = set(changed.counters) | set(unchanged.counters)
    return {key: max(0.0, changed.per_one(key) - unchanged.per_one(key)) / changes for key in keys}


def monthly_counters(measured: Measured, rates: Rates) -> dict[str, float]:
    times = occurrences(rates)
    totals: dict[str, float] = {}
    for name, factor in times.items():
        if name == "snapshot_per_change":
            per_one = per_change(measured)
        else:
            unit = measured.units[name]
            per_one = {key: unit.per_one(key) for key in unit.counters}
        for key, value in per_one.items():
            totals[key] = totals.get(key, 0.0) + value * factor
    return totals


def scale_assets(measured: Measured, assets: int) -> Measured:
    """The measurement carried to ``assets`` by the model (see the module docstring)."""
    factor = assets / measured.assets
    linear = {
        metrics.CAI_LIST_PAGES,
        metrics.FUNCTION_SECONDS,
        metrics.FUNCTION_GB_SECONDS,
        metrics.FUNCTION_VCPU_SECONDS,
        metrics.BIGQUERY_BYTES_LOADED,
        metrics.BIGQUERY_LOAD_JOBS,
    }
    units = dict(measured.units)
    for name in ("snapshot_unchanged", "snapshot_changed", "history"):
        unit = units[name]
        counters = {
            key: value * factor if key in linear else value for key, value in unit.counters.items()
        }
        units[name] = replace(unit, counters=counters, seconds=unit.seconds * factor)
    return replace(
        measured,
        assets=assets,
        units=units,
        firestore_documents=round(measured.firestore_documents * factor),
        firestore_stored_bytes=round(measured.firestore_stored_bytes * factor),
        scaled_from=measured.assets,
    )


def _charge(price: pricing.Price, quantity: float) -> tuple[float, float]:
    """(list price, price after the free tier) of ``quantity`` per month."""
    list_usd = quantity / price.per * price.usd
    free = price.free * (DAYS_PER_MONTH if price.free_period == "day" else 1)
    billed = max(0.0, quantity - free) / price.per * price.usd
    return list_usd, billed


def price_month(measured: Measured, rates: Rates, location: str) -> Report:
    monthly = monthly_counters(measured, rates)
    report = Report(measured.assets, rates, location, monthly)
    activity_bytes = measured.activity_entry_bytes * (rates.changes_per_day + rates.pushes_per_day)
    stored = measured.firestore_stored_bytes * (1 + INDEX_ALLOWANCE)
    stored += activity_bytes * DAYS_PER_MONTH * (1 + INDEX_ALLOWANCE)
    history = measured.units["history"]
    queries = monthly.get(metrics.BIGQUERY_QUERIES, 0.0)
    scanned = max(
        monthly.get(metrics.BIGQUERY_BYTES_SCANNED, 0.0),
        queries * pricing.BIGQUERY_MIN_BYTES_PER_QUERY,
    )
    invocations = monthly.get(metrics.FUNCTION_INVOCATIONS, 0.0)
    fs = pricing.firestore_prices(location)
    fn = pricing.FUNCTIONS
    quantities: list[tuple[pricing.Price, float]] = [
        (fs[0], monthly.get(metrics.FIRESTORE_READS, 0.0)),
        (fs[1], monthly.get(metrics.FIRESTORE_WRITES, 0.0)),
        (fs[2], monthly.get(metrics.FIRESTORE_DELETES, 0.0)),
        (fs[3], stored),
        (fn[0], monthly.get(metrics.FUNCTION_VCPU_SECONDS, 0.0)),
        (fn[1], monthly.get(metrics.FUNCTION_GB_SECONDS, 0.0)),
        (fn[2], invocations),
        (
            pricing.PUBSUB[0],
            monthly.get(metrics.PUBSUB_PUBLISHED_BYTES, 0.0)
            + monthly.get(metrics.PUBSUB_DELIVERED_BYTES, 0.0),
        ),
        (pricing.BIGQUERY[0], scanned),
        (pricing.BIGQUERY[1], history.per_one(metrics.BIGQUERY_BYTES_LOADED) * DAYS_PER_MONTH),
        (pricing.BIGQUERY[2], monthly.get(metrics.BIGQUERY_BYTES_LOADED, 0.0)),
        (pricing.LOGGING[0], monthly.get(metrics.LOG_BYTES, 0.0)),
        (pricing.SCHEDULER[0], float(pricing.SCHEDULER_JOBS)),
        (pricing.SECRET_MANAGER[0], float(pricing.SECRETS)),
        # Upper bound: a secret is read when an instance starts, at most once per invocation
        # of the three functions that mount one.
        (pricing.SECRET_MANAGER[1], _secret_reads(monthly, rates)),
        (pricing.ASSET_INVENTORY[0], monthly.get(metrics.CAI_LIST_PAGES, 0.0)),
    ]
    for price, quantity in quantities:
        list_usd, billed = _charge(price, quantity)
        report.lines.append(
            Line(price.service, price.item, quantity, price.unit, list_usd, billed, price.source)
        )
    for name in ("git_initial", "snapshot_initial"):
        if name in measured.units:
            report.one_off[name] = measured.units[name].per_one(metrics.FIRESTORE_WRITES)
    return report


def _secret_reads(monthly: dict[str, float], rates: Rates) -> float:
    _ = monthly
    per_day = rates.pushes_per_day * 2 + GIT_SCHEDULED_PER_DAY + FRESHNESS_PER_DAY
    return per_day * DAYS_PER_MONTH


def by_service(report: Report) -> dict[str, tuple[float, float]]:
    """(list, billed) dollars a month per service."""
    totals: dict[str, tuple[float, float]] = {}
    for line in report.lines:
        listed, billed = totals.get(line.service, (0.0, 0.0))
        totals[line.service] = (listed + line.list_usd, billed + line.billed_usd)
    return totals
