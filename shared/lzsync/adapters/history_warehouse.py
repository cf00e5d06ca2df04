"""BigQuery side of the history layer: the dataset, its tables and views, and day partitions
replaced exactly.

**Replacing a day.** Rows go to a per-run staging table by load jobs (free, unlike streaming
inserts, and never duplicated by a retry) in chunks of ``chunk_rows``, so memory stays bounded
whatever the estate's size. One multi-statement transaction then deletes the day's partition
and inserts the staged rows: readers see the old day or the new one, never a mix, and a re-run
replaces instead of appending. (A load with ``WRITE_TRUNCATE`` into ``table$YYYYMMDD`` would do
the same on BigQuery for free, but the local engine the tests use does not know partition
decorators; the transaction runs on both, and its insert scans only the small staging table.)

**Schema evolution.** New fields are added with ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``
(nullable, so older partitions read them as NULL); nothing is ever dropped or retyped.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any, Final

import requests
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import bigquery

from lzsync import metrics
from lzsync.errors import UpstreamUnavailable

_log = logging.getLogger("lzsync.history")

S = bigquery.SchemaField
_LABEL: Final = (S("key", "STRING"), S("value", "STRING"))
_VIOLATION: Final = (S("constraint_name", "STRING"), S("kind", "STRING"), S("severity", "STRING"))
_STAGING_HOURS: Final = 24
_JOB_TIMEOUT_SECONDS: Final = 300.0

TRANSIENT_BIGQUERY_ERRORS: Final = (
    google_errors.ServiceUnavailable,
    google_errors.InternalServerError,
    google_errors.TooManyRequests,
    google_errors.BadGateway,
    google_errors.GatewayTimeout,
    requests.ConnectionError,
    requests.Timeout,
)


@dataclass(frozen=True)
class TableSpec:
    schema: tuple[bigquery.SchemaField, ...]
    partition_field: str
    clustering: tuple[str, ...]


TABLES: Final = {
    "asset_snapshots": TableSpec(
        (
            S("snapshot_date", "DATE", mode="REQUIRED"),
            S("name", "STRING", mode="REQUIRED"),
            S("asset_type", "STRING"),
            S("project_id", "STRING"),
            S("project", "STRING"),
            S("organization", "STRING"),
            S("folders", "STRING", mode="REPEATED"),
            S("ancestry", "STRING", mode="REPEATED"),
            S("location", "STRING"),
            S("environment", "STRING"),
            S("labels", "RECORD", mode="REPEATED", fields=_LABEL),
            S("state", "STRING"),
            S("create_time", "STRING"),
            S("update_time", "STRING"),
            S("data_json", "STRING"),
            S("content_hash", "STRING"),
            S("compliant", "BOOL"),
            S("violations", "RECORD", mode="REPEATED", fields=_VIOLATION),
        ),
        "snapshot_date",
        ("asset_type", "project_id"),
    ),
    "resource_counts": TableSpec(
        (
            S("day", "DATE", mode="REQUIRED"),
            S("asset_type", "STRING"),
            S("project_id", "STRING"),
            S("environment", "STRING"),
            S("resources", "INT64"),
        ),
        "day",
        ("asset_type", "project_id"),
    ),
    "asset_changes": TableSpec(
        (
            S("change_date", "DATE", mode="REQUIRED"),
            S("change_id", "STRING", mode="REQUIRED"),
            S("time", "TIMESTAMP"),
            S("kind", "STRING"),
            S("asset", "STRING"),
            S("asset_type", "STRING"),
            S("project", "STRING"),
            S("layer", "STRING"),
            S("source", "STRING"),
            S("summary", "STRING"),
        ),
        "change_date",
        ("asset_type", "kind"),
    ),
    "doc_changes": TableSpec(
        (
            S("change_date", "DATE", mode="REQUIRED"),
            S("change_id", "STRING", mode="REQUIRED"),
            S("synced_at", "TIMESTAMP"),
            S("commit_time", "TIMESTAMP"),
            S("repo", "STRING"),
            S("commit", "STRING"),
            S("path", "STRING"),
            S("change", "STRING"),
            S("previous_path", "STRING"),
            S("doc_kind", "STRING"),
        ),
        "change_date",
        ("repo", "doc_kind"),
    ),
}


@dataclass(frozen=True)
class DayLoad:
    table: str
    day: date
    rows: int
    bytes_loaded: int
    load_jobs: int


def history_client(project: str, api_endpoint: str | None) -> bigquery.Client:
    """The real client. An ``http://`` endpoint (a local engine) gets anonymous credentials and
    a session that ignores proxy settings; anything else uses the runtime's credentials."""
    if api_endpoint is None:
        return bigquery.Client(project=project)
    options = ClientOptions(api_endpoint=api_endpoint)
    if not api_endpoint.startswith("http://"):
        return bigquery.Client(project=project, client_options=options)
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    session.trust_env = False
    return bigquery.Client(
        project=project, credentials=credentials, client_options=options, _http=session
    )


def _ddl_type(field: bigquery.SchemaField) -> str:
    if field.field_type in ("RECORD", "STRUCT"):
        inner = ", ".join(f"{sub.name} {_ddl_type(sub)}" for sub in field.fields)
        base = f"STRUCT<{inner}>"
    else:
        base = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}.get(
            field.field_type, field.field_type
        )
    return f"ARRAY<{base}>" if field.mode == "REPEATED" else base


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[tuple[int, io.BytesIO]]:
    """Up to ``size`` rows at a time as newline-delimited JSON. Rows are encoded as they are
    pulled, so a chunk holds only its bytes, never its rows as objects."""
    iterator = iter(rows)
    while True:
        buffer = io.BytesIO()
        count = 0
        for row in islice(iterator, size):
            if count:
                buffer.write(b"\n")
            buffer.write(json.dumps(row, separators=(",", ":")).encode())
            count += 1
        if not count:
            return
        buffer.seek(0)
        yield count, buffer


class HistoryWarehouse:
    def __init__(
        self,
        client: bigquery.Client,
        project: str,
        dataset: str,
        location: str,
        chunk_rows: int,
    ) -> None:
        self._client = client
        self._project = project
        self._dataset = dataset
        self._location = location
        self._chunk_rows = chunk_rows

    @property
    def dataset_path(self) -> str:
        return f"{self._project}.{self._dataset}"

    def table_path(self, table: str) -> str:
        return f"{self.dataset_path}.{table}"

    def ensure(self, views: Mapping[str, str]) -> None:
        """Dataset, tables (new fields added) and views, created or brought up to date."""
        with _as_upstream_errors():
            self._ensure_dataset()
            for name, spec in TABLES.items():
                self._ensure_table(name, spec)
            for name, query in views.items():
                self.run(f"CREATE OR REPLACE VIEW `{self.table_path(name)}` AS\n{query}")

    def _ensure_dataset(self) -> None:
        """Look before creating: ``create_dataset(exists_ok=True)`` needs the project-wide
        ``bigquery.datasets.create`` permission even when the dataset exists, and the exporter
        is granted only its own dataset (infra creates it)."""
        try:
            self._client.get_dataset(self.dataset_path)
        except google_errors.NotFound:
            dataset = bigquery.Dataset(self.dataset_path)
            dataset.location = self._location
            self._client.create_dataset(dataset, exists_ok=True)

    def _ensure_table(self, name: str, spec: TableSpec) -> None:
        try:
            existing = self._client.get_table(self.table_path(name))
        except google_errors.NotFound:
            table = bigquery.Table(self.table_path(name), schema=list(spec.schema))
            table.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=spec.partition_field
            )
            table.clustering_fields = list(spec.clustering)
            self._client.create_table(table, exists_ok=True)
            return
        known = {field.name for field in existing.schema}
        for field in spec.schema:
            if field.name not in known:
                _log.info("adding column", extra={"table": name, "column": field.name})
                self.run(
                    f"ALTER TABLE `{self.table_path(name)}` "
                    f"ADD COLUMN IF NOT EXISTS {field.name} {_ddl_type(field)}"
                )

    def replace_day(self, table: str, day: date, rows: Iterable[Mapping[str, Any]]) -> DayLoad:
        """Make ``table``'s partition for ``day`` hold exactly ``rows``."""
        spec = TABLES[table]
        # Per run: two overlapping exports of one day (the schedule and a manual backfill)
        # stage apart; their swaps are transactions, the later one wins with the same rows.
        stage = self.table_path(f"_stage_{table}_{day:%Y%m%d}_{uuid.uuid4().hex[:8]}")
        total_rows = total_bytes = jobs = 0
        with _as_upstream_errors():
            for count, data in _chunks(rows, self._chunk_rows):
                config = bigquery.LoadJobConfig(
                    schema=list(spec.schema),
                    source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                    write_disposition=(
                        bigquery.WriteDisposition.WRITE_TRUNCATE
                        if jobs == 0
                        else bigquery.WriteDisposition.WRITE_APPEND
                    ),
                )
                size = len(data.getbuffer())
                job = self._client.load_table_from_file(data, stage, job_config=config)
                job.result(timeout=_JOB_TIMEOUT_SECONDS)
                jobs += 1
                total_rows += count
                total_bytes += size
                metrics.count(metrics.BIGQUERY_LOAD_JOBS)
                metrics.count(metrics.BIGQUERY_BYTES_LOADED, size)
                _log.info(
                    "rows staged",
                    extra={"table": table, "day": day.isoformat(), "rows": total_rows},
                )
            if jobs:
                self._expire_soon(stage)
            self._swap_partition(table, spec, day, stage if jobs else None)
            if jobs:
                self._client.delete_table(stage, not_found_ok=True)
        return DayLoad(table, day, total_rows, total_bytes, jobs)

    def _expire_soon(self, stage: str) -> None:
        """A staging table left by a crash disappears by itself."""
        staged = self._client.get_table(stage)
        staged.expires = datetime.now(UTC) + timedelta(hours=_STAGING_HOURS)
        self._client.update_table(staged, ["expires"])

    def _swap_partition(self, table: str, spec: TableSpec, day: date, stage: str | None) -> None:
        target = self.table_path(table)
        statements = [
            "BEGIN TRANSACTION;",
            f"DELETE FROM `{target}` WHERE {spec.partition_field} = DATE '{day.isoformat()}';",
        ]
        if stage is not None:
            columns = ", ".join(field.name for field in spec.schema)
            statements.append(
                f"INSERT INTO `{target}` ({columns}) SELECT {columns} FROM `{stage}`;"
            )
        statements.append("COMMIT TRANSACTION;")
        self.run("\n".join(statements))

    def run(
        self, sql: str, parameters: Sequence[bigquery.ScalarQueryParameter] = ()
    ) -> list[dict[str, Any]]:
        """Run a query or script and return its rows as dicts."""
        with _as_upstream_errors():
            config = bigquery.QueryJobConfig(query_parameters=list(parameters))
            job = self._client.query(sql, job_config=config)
            rows = [dict(row.items()) for row in job.result(timeout=_JOB_TIMEOUT_SECONDS)]
            # On-demand queries bill totalBytesProcessed (the local engine may not report it).
            metrics.count(metrics.BIGQUERY_QUERIES)
            metrics.count(metrics.BIGQUERY_BYTES_SCANNED, job.total_bytes_processed or 0)
            return rows


@contextmanager
def _as_upstream_errors() -> Iterator[None]:
    """Transient BigQuery failures as UpstreamUnavailable (retry later); the rest propagate."""
    try:
        yield
    except TRANSIENT_BIGQUERY_ERRORS as error:
        raise UpstreamUnavailable(f"bigquery: {error}", upstream="bigquery") from error
