"""The trend views of the history dataset, as SQL text: per day, week (starting Monday) and
month, over the small tables the export writes.

Standard BigQuery SQL only, in the subset the local engine (bqemulator) also runs: no
``ISOWEEK`` (``WEEK(MONDAY)`` is the same week), no correlated ``UNNEST`` lookups (environments
are computed at load), columns named in every ``SELECT``. Resource counts of a week or month are
the counts of its last exported day, not a sum over its days.
"""

from __future__ import annotations

from typing import Final

PERIODS: Final = {"daily": "DAY", "weekly": "WEEK(MONDAY)", "monthly": "MONTH"}


def _resource_counts(table: str, unit: str) -> str:
    return f"""
SELECT DATE_TRUNC(day, {unit}) AS period_start, day AS as_of, asset_type, project_id,
       environment, resources
FROM `{table}`
WHERE day IN (SELECT MAX(day) FROM `{table}` GROUP BY DATE_TRUNC(day, {unit}))
""".strip()


def _asset_changes(table: str, unit: str) -> str:
    return f"""
SELECT DATE_TRUNC(change_date, {unit}) AS period_start, kind, asset_type, project,
       COUNT(*) AS changes
FROM `{table}`
GROUP BY period_start, kind, asset_type, project
""".strip()


def _doc_churn(table: str, unit: str) -> str:
    return f"""
SELECT DATE_TRUNC(change_date, {unit}) AS period_start, repo, doc_kind, change,
       COUNT(*) AS files, COUNT(DISTINCT commit) AS commits
FROM `{table}`
GROUP BY period_start, repo, doc_kind, change
""".strip()


def _violations(table: str, unit: str) -> str:
    """Violations per constraint and project on the period's last exported day."""
    return f"""
SELECT DATE_TRUNC(s.snapshot_date, {unit}) AS period_start, s.snapshot_date AS as_of,
       v.constraint_name, v.kind, v.severity, s.project_id, COUNT(*) AS violations
FROM `{table}` AS s, UNNEST(s.violations) AS v
WHERE s.snapshot_date IN (
  SELECT MAX(snapshot_date) FROM `{table}` GROUP BY DATE_TRUNC(snapshot_date, {unit}))
GROUP BY period_start, as_of, v.constraint_name, v.kind, v.severity, s.project_id
""".strip()


def _cost(table: str, unit: str) -> str:
    """Net cost (cost plus credits, which are negative) from the standard billing export."""
    return f"""
SELECT DATE_TRUNC(DATE(usage_start_time), {unit}) AS period_start, project.id AS project_id,
       service.description AS service, currency, SUM(cost) AS cost,
       SUM(IFNULL((SELECT SUM(credit.amount) FROM UNNEST(credits) AS credit), 0)) AS credits
FROM `{table}`
GROUP BY period_start, project_id, service, currency
""".strip()


def view_definitions(dataset: str, billing_table: str | None = None) -> dict[str, str]:
    """View name → query, for ``dataset`` (``project.dataset``)."""
    views: dict[str, str] = {}
    for period, unit in PERIODS.items():
        views[f"resource_counts_{period}"] = _resource_counts(f"{dataset}.resource_counts", unit)
        views[f"asset_changes_{period}"] = _asset_changes(f"{dataset}.asset_changes", unit)
        views[f"doc_churn_{period}"] = _doc_churn(f"{dataset}.doc_changes", unit)
        views[f"violations_{period}"] = _violations(f"{dataset}.asset_snapshots", unit)
        if billing_table:
            views[f"cost_{period}"] = _cost(billing_table, unit)
    return views


def summary_queries(dataset: str, period: str, with_cost: bool) -> dict[str, str]:
    """Per measure, the query for ``period``'s headline numbers between ``@first`` and
    ``@last`` (DATE parameters), one row per period start."""
    within = "WHERE period_start BETWEEN @first AND @last"
    queries = {
        "resources": f"SELECT period_start, SUM(resources) AS n "
        f"FROM `{dataset}.resource_counts_{period}` {within} GROUP BY period_start",
        "changes": f"SELECT period_start, kind, SUM(changes) AS n "
        f"FROM `{dataset}.asset_changes_{period}` {within} GROUP BY period_start, kind",
        "docs": f"SELECT period_start, SUM(files) AS n "
        f"FROM `{dataset}.doc_churn_{period}` {within} GROUP BY period_start",
        "violations": f"SELECT period_start, SUM(violations) AS n "
        f"FROM `{dataset}.violations_{period}` {within} GROUP BY period_start",
    }
    if with_cost:
        queries["cost"] = (
            f"SELECT period_start, SUM(cost) + SUM(credits) AS n "
            f"FROM `{dataset}.cost_{period}` {within} GROUP BY period_start"
        )
    return queries


def environment_query(dataset: str) -> str:
    """Resources by environment on ``@day``."""
    return (
        f"SELECT environment, SUM(resources) AS resources FROM `{dataset}.resource_counts` "
        "WHERE day = @day GROUP BY environment"
    )
