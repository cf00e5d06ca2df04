"""What the history layer may rely on from the local BigQuery engine (bqemulator), driven by the
real google-cloud-bigquery client, and the gaps it must work around. A test named ``..._gap``
pins a difference from BigQuery (listed in ``lzsync.devtools.bigquery_emulator``): if the
emulator ever closes it, the test fails and the workaround can go."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import bigquery as bq

from lzsync.devtools.bigquery_emulator import (
    TEST_JOB_RETRY,
    TEST_RETRY,
    BigQueryEmulator,
    launcher_command,
)
from lzsync.devtools.emulators import EmulatorError

DAY_1 = date(2026, 3, 1)
DAY_2 = date(2026, 3, 2)
SCHEMA = [
    bq.SchemaField("day", "DATE", mode="REQUIRED"),
    bq.SchemaField("asset", "STRING", mode="REQUIRED"),
    bq.SchemaField("kind", "STRING"),
    bq.SchemaField("version", "INT64"),
]
JOB_TIMEOUT_SECONDS = 30.0


def row(day: date, asset: str, version: int = 1, kind: str = "bucket") -> dict[str, Any]:
    return {"day": day.isoformat(), "asset": asset, "kind": kind, "version": version}


def ndjson(rows: list[dict[str, Any]]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())


def load(
    client: bq.Client,
    table: str,
    rows: list[dict[str, Any]],
    disposition: str = bq.WriteDisposition.WRITE_APPEND,
    **upload: Any,
) -> bq.LoadJob:
    config = bq.LoadJobConfig(
        source_format=bq.SourceFormat.NEWLINE_DELIMITED_JSON, write_disposition=disposition
    )
    job = client.load_table_from_file(ndjson(rows), table, job_config=config, **upload)
    job.result(retry=TEST_RETRY, timeout=JOB_TIMEOUT_SECONDS)
    return job


def select(client: bq.Client, sql: str, **config: Any) -> list[dict[str, Any]]:
    job = client.query(
        sql, job_config=bq.QueryJobConfig(**config), retry=TEST_RETRY, job_retry=TEST_JOB_RETRY
    )
    return [dict(r) for r in job.result(retry=TEST_RETRY, timeout=JOB_TIMEOUT_SECONDS)]


@pytest.fixture
def client(bigquery: BigQueryEmulator) -> Iterator[bq.Client]:
    client = bigquery.client()
    yield client
    client.close()


@pytest.fixture
def dataset(client: bq.Client, unique: str) -> str:
    """A fresh dataset per test (the emulator has no reset)."""
    return client.create_dataset(unique, retry=TEST_RETRY).dataset_id


@pytest.fixture
def history(client: bq.Client, dataset: str) -> str:
    """A table shaped like the history layer's: day-partitioned on ``day``, clustered."""
    table = bq.Table(f"{client.project}.{dataset}.history", schema=SCHEMA)
    table.time_partitioning = bq.TimePartitioning(type_=bq.TimePartitioningType.DAY, field="day")
    table.clustering_fields = ["kind", "asset"]
    client.create_table(table, retry=TEST_RETRY)
    return f"{client.project}.{dataset}.history"


def test_client_talks_to_the_emulator_on_loopback(bigquery: BigQueryEmulator, client: bq.Client):
    assert bigquery.endpoint.startswith("http://127.0.0.1:")
    assert client.project == bigquery.project
    assert select(client, "SELECT 1 AS one") == [{"one": 1}]


def test_a_missing_bq_virtualenv_is_a_clear_error(tmp_path: Path):
    with pytest.raises(EmulatorError, match="make setup"):
        launcher_command(tmp_path)


def test_dataset_is_created_and_listed(client: bq.Client, dataset: str):
    assert dataset in [d.dataset_id for d in client.list_datasets(retry=TEST_RETRY)]


def test_table_is_day_partitioned_on_its_date_column_and_clustered(client: bq.Client, history):
    table = client.get_table(history, retry=TEST_RETRY)

    assert table.time_partitioning.type_ == bq.TimePartitioningType.DAY
    assert table.time_partitioning.field == "day"
    assert table.clustering_fields == ["kind", "asset"]
    assert [field.name for field in table.schema] == ["day", "asset", "kind", "version"]


@pytest.mark.parametrize("sized", [False, True], ids=["resumable", "multipart"])
def test_load_job_of_ndjson_from_a_file_appends_rows(client: bq.Client, history, sized):
    rows = [row(DAY_1, "a"), row(DAY_2, "b")]
    # A known size under 5 MB makes the client send one multipart request, else a resumable one.
    upload = {"size": len(ndjson(rows).getvalue())} if sized else {}

    job = load(client, history, rows, **upload)

    assert job.state == "DONE"
    assert job.error_result is None
    assert select(client, f"SELECT asset FROM `{history}` ORDER BY asset") == [
        {"asset": "a"},
        {"asset": "b"},
    ]


def test_load_into_a_partition_decorator_is_refused_gap(client: bq.Client, history):
    day_1_partition = f"{history}${DAY_1:%Y%m%d}"

    with pytest.raises(exceptions.BadRequest, match="Invalid table id"):
        load(client, day_1_partition, [row(DAY_1, "a")], bq.WriteDisposition.WRITE_TRUNCATE)


def test_partition_decorators_in_queries_and_partition_listing_are_not_found_gap(
    client: bq.Client, history
):
    with pytest.raises(exceptions.NotFound):
        select(client, f"SELECT COUNT(*) AS n FROM `{history}${DAY_1:%Y%m%d}`")
    with pytest.raises(exceptions.NotFound):
        client.list_partitions(history, retry=TEST_RETRY)


def test_replacing_one_day_by_delete_then_append_leaves_the_other_days_alone(
    client: bq.Client, history
):
    load(client, history, [row(DAY_1, "a"), row(DAY_1, "b"), row(DAY_2, "c")])
    day = bq.ScalarQueryParameter("day", "DATE", DAY_1)

    select(client, f"DELETE FROM `{history}` WHERE day = @day", query_parameters=[day])
    load(client, history, [row(DAY_1, "a", version=2)])

    assert select(client, f"SELECT day, asset, version FROM `{history}` ORDER BY day, asset") == [
        {"day": DAY_1, "asset": "a", "version": 2},
        {"day": DAY_2, "asset": "c", "version": 1},
    ]


def test_write_truncate_load_replaces_the_whole_table_and_keeps_its_layout(
    client: bq.Client, history
):
    load(client, history, [row(DAY_1, "a"), row(DAY_2, "b")])

    load(client, history, [row(DAY_2, "z")], bq.WriteDisposition.WRITE_TRUNCATE)

    assert select(client, f"SELECT asset FROM `{history}`") == [{"asset": "z"}]
    table = client.get_table(history, retry=TEST_RETRY)
    assert table.time_partitioning.field == "day"
    assert table.clustering_fields == ["kind", "asset"]


def test_load_job_output_rows_counts_the_table_not_the_load_gap(client: bq.Client, history):
    load(client, history, [row(DAY_1, "a"), row(DAY_1, "b")])

    second = load(client, history, [row(DAY_2, "c")])

    assert second.output_rows == 3  # BigQuery: 1


def test_a_mistyped_row_in_a_load_job_fails_the_job_at_once(client: bq.Client, history):
    started = time.monotonic()

    with pytest.raises(exceptions.BadRequest, match="invalid date"):
        load(client, history, [{"day": "not-a-date", "asset": "a"}])

    assert time.monotonic() - started < JOB_TIMEOUT_SECONDS


def test_query_with_parameters_groups_rows(client: bq.Client, history):
    load(
        client,
        history,
        [
            row(DAY_1, "a", kind="bucket"),
            row(DAY_1, "b", kind="bucket"),
            row(DAY_2, "c", kind="bucket"),
            row(DAY_2, "d", kind="project"),
            row(DAY_2, "e", kind="folder"),
        ],
    )

    counts = select(
        client,
        f"SELECT kind, COUNT(*) AS assets, MAX(day) AS last_day FROM `{history}` "
        "WHERE day >= @since AND kind IN UNNEST(@kinds) GROUP BY kind ORDER BY kind",
        query_parameters=[
            bq.ScalarQueryParameter("since", "DATE", DAY_1),
            bq.ArrayQueryParameter("kinds", "STRING", ["bucket", "project"]),
        ],
    )

    assert counts == [
        {"kind": "bucket", "assets": 3, "last_day": DAY_2},
        {"kind": "project", "assets": 1, "last_day": DAY_2},
    ]


def test_create_or_replace_view_is_queried_with_its_latest_definition(
    client: bq.Client, dataset: str, history
):
    load(client, history, [row(DAY_1, "a", version=1), row(DAY_2, "a", version=2)])
    view = f"{client.project}.{dataset}.latest"
    select(client, f"CREATE OR REPLACE VIEW `{view}` AS SELECT asset FROM `{history}`")

    select(
        client,
        f"CREATE OR REPLACE VIEW `{view}` AS SELECT asset, MAX(version) AS version "
        f"FROM `{history}` GROUP BY asset",
    )

    assert client.get_table(view, retry=TEST_RETRY).table_type == "VIEW"
    assert select(client, f"SELECT * FROM `{view}`") == [{"asset": "a", "version": 2}]


def test_merge_upserts_and_running_it_twice_changes_nothing(client: bq.Client, history):
    load(client, history, [row(DAY_1, "a", version=1), row(DAY_1, "b", version=1)])
    merge = (
        f"MERGE `{history}` AS t USING ("
        "  SELECT @day AS day, 'a' AS asset, 'bucket' AS kind, 2 AS version"
        "  UNION ALL SELECT @day, 'c', 'bucket', 1"
        ") AS s ON t.day = s.day AND t.asset = s.asset "
        "WHEN MATCHED THEN UPDATE SET version = s.version "
        "WHEN NOT MATCHED THEN INSERT (day, asset, kind, version) "
        "VALUES (s.day, s.asset, s.kind, s.version)"
    )
    day = [bq.ScalarQueryParameter("day", "DATE", DAY_1)]
    contents = f"SELECT asset, version FROM `{history}` ORDER BY asset"

    select(client, merge, query_parameters=day)
    once = select(client, contents)
    select(client, merge, query_parameters=day)

    assert once == [
        {"asset": "a", "version": 2},
        {"asset": "b", "version": 1},
        {"asset": "c", "version": 1},
    ]
    assert select(client, contents) == once


def test_a_mistyped_streaming_row_is_a_500_that_the_test_retry_gives_up_on_gap(
    client: bq.Client, history
):
    started = time.monotonic()

    with pytest.raises(exceptions.RetryError) as raised:
        client.insert_rows_json(history, [{"day": "not-a-date", "asset": "a"}], retry=TEST_RETRY)

    assert isinstance(raised.value.cause, exceptions.InternalServerError)  # BigQuery: insertErrors
    assert time.monotonic() - started < 3 * TEST_RETRY.timeout


def test_a_streaming_row_with_an_unknown_field_is_accepted_and_the_field_dropped_gap(
    client: bq.Client, history
):
    unknown = {**row(DAY_1, "a"), "colour": "red"}

    errors = client.insert_rows_json(history, [unknown], retry=TEST_RETRY)

    assert errors == []  # BigQuery: an insert error "no such field"
    assert select(client, f"SELECT asset FROM `{history}`") == [{"asset": "a"}]


def test_a_query_job_with_a_destination_table_does_not_create_it_gap(
    client: bq.Client, dataset: str
):
    destination = f"{client.project}.{dataset}.result"

    select(client, "SELECT 1 AS one", destination=destination)

    with pytest.raises(exceptions.NotFound):
        client.get_table(destination, retry=TEST_RETRY)
