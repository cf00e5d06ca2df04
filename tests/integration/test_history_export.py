"""The history export against the real engines: Firestore emulator (activity, doc-change log,
summary, status), the local BigQuery engine (bqemulator, real client), and the asset listing
served by the test server at past read times. A simulated week: the estate changes every day,
the real-time layer applies each day's changes, git sync logs file changes; the views must give
exactly the simulator's numbers per day, week and month."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from lzsync.adapters.doc_change_log import DocChangeLog
from lzsync.adapters.event_store import EventStore
from lzsync.adapters.history_warehouse import TABLES, HistoryWarehouse, history_client
from lzsync.adapters.resource_store import resource_id
from lzsync.collection_names import Collections
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.feed_player import stamped
from lzsync.devtools.simulator import Simulator
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.doc_changes import FileChange
from lzsync.model.feed import parse_feed_message
from lzsync.services.history_export_http import UnexportableDay, history_service, source_for_day
from tests.conftest import PROJECT_ID
from tests.helpers import scheduled_function

DAYS = 7
SIM = Simulator(size=300, seed=11, update_share=0.05, delete_share=0.02, create_share=0.03)
TODAY = datetime.now(UTC).date()
WEEK = [TODAY - timedelta(days=DAYS - i) for i in range(DAYS)]  # ends yesterday
DOC_FILES_PER_DAY = [3, 0, 5, 1, 0, 2, 4]


def version_of(read_time: datetime) -> int:
    """The estate of day WEEK[i] is the simulator's version i."""
    return max(0, min(DAYS - 1, (read_time.date() - WEEK[0]).days))


@pytest.fixture
def server():
    server = AssetServer(SIM).start()
    server.version_at = version_of
    yield server
    server.stop()


@pytest.fixture
def settings(server, bigquery):
    return settings_for(
        server,
        PROJECT_ID,
        bigquery_api_endpoint=bigquery.endpoint,
        history_dataset=f"h_{uuid.uuid4().hex[:10]}",
        history_load_chunk_rows=100,  # several load jobs per day: the chunked path runs
        asset_retry_schedule_seconds=(0.01,),
        asset_page_size=100,  # several pages: a listing can fail half-way
    )


def expected_counts(version: int) -> Counter[str]:
    return Counter(resource_document(a, source="t")["asset_type"] for a in SIM.assets(version))


def expected_changes(version: int) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for change in SIM.changes(version - 1, version):
        if change.get("deleted"):
            kinds["deleted"] += 1
        elif change["priorAssetState"] == "DOES_NOT_EXIST":
            kinds["created"] += 1
        else:
            kinds["updated"] += 1
    return kinds


def live_a_week(db) -> None:
    """What the other layers leave in Firestore over the week: version 0 written by the
    snapshot, each later day's changes applied by the real-time layer during that day, and
    git sync's file-change log."""
    for asset in SIM.assets(0):
        document = resource_document(asset, source="snapshot")
        db.collection("resources").document(resource_id(asset["name"])).set(document)
    store = EventStore(db, Collections(), tombstone_ttl_seconds=3600, activity_ttl_days=30)
    for version in range(1, DAYS):
        noon = datetime.combine(WEEK[version], datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=12
        )
        for offset, change in enumerate(SIM.changes(version - 1, version)):
            parsed = parse_feed_message(stamped(change, noon + timedelta(seconds=offset)))
            document = None if parsed.deleted else resource_document(parsed.asset, source="e")
            store.apply(parsed, document)
    log = DocChangeLog(db, "_doc_changes", ttl_days=30)
    for index, files in enumerate(DOC_FILES_PER_DAY):
        at = datetime.combine(WEEK[index], datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        changes = [FileChange(f"docs/page-{index}-{n}.md", "modified", "doc") for n in range(files)]
        log.record(repo="acme/lz", commit=f"{index:040d}", commit_time=at, changes=changes, at=at)


def warehouse(settings) -> HistoryWarehouse:
    return HistoryWarehouse(
        history_client(PROJECT_ID, settings.bigquery_api_endpoint),
        PROJECT_ID,
        settings.history_dataset,
        settings.history_location,
        settings.history_load_chunk_rows,
    )


def view(settings, name: str) -> list[dict]:
    rows = warehouse(settings).run(
        f"SELECT * FROM `{PROJECT_ID}.{settings.history_dataset}.{name}`"
    )
    for row in rows:
        for key in ("period_start", "as_of"):
            if isinstance(row.get(key), datetime):
                row[key] = row[key].date()
    return rows


def totals_by(rows: list[dict], key: str, measure: str, where=lambda row: True) -> dict:
    totals: Counter = Counter()
    for row in rows:
        if where(row):
            totals[row[key]] += row[measure]
    return dict(totals)


@pytest.fixture
def exported_week(db, settings):
    live_a_week(db)
    service = history_service(settings, db)
    outcomes = [service.run(day) for day in WEEK]
    return service, outcomes


def test_a_week_gives_exactly_the_estates_daily_weekly_and_monthly_numbers(
    db, settings, exported_week
):
    _service, outcomes = exported_week
    assert [outcome.outcome for outcome in outcomes] == ["complete"] * DAYS
    assert outcomes[0].tables["asset_snapshots"]["load_jobs"] > 1

    daily = view(settings, "resource_counts_daily")
    assert totals_by(daily, "period_start", "resources") == {
        day: sum(expected_counts(i).values()) for i, day in enumerate(WEEK)
    }
    last = WEEK[-1]
    by_type = totals_by(daily, "asset_type", "resources", lambda r: r["period_start"] == last)
    assert by_type == dict(expected_counts(DAYS - 1))

    # A week's (a month's) count is its last exported day's.
    weekly = view(settings, "resource_counts_weekly")
    week_last_day = {}
    for index, day in enumerate(WEEK):
        week_last_day[day - timedelta(days=day.weekday())] = index
    assert totals_by(weekly, "period_start", "resources") == {
        start: sum(expected_counts(index).values()) for start, index in week_last_day.items()
    }
    monthly = view(settings, "resource_counts_monthly")
    month_last_day = {day.replace(day=1): index for index, day in enumerate(WEEK)}
    assert totals_by(monthly, "period_start", "resources") == {
        start: sum(expected_counts(index).values()) for start, index in month_last_day.items()
    }

    changes = view(settings, "asset_changes_daily")
    for index in range(1, DAYS):
        day = WEEK[index]
        assert totals_by(changes, "kind", "changes", lambda r, d=day: r["period_start"] == d) == (
            dict(expected_changes(index))
        )
    churn = view(settings, "doc_churn_daily")
    assert totals_by(churn, "period_start", "files") == {
        WEEK[i]: files for i, files in enumerate(DOC_FILES_PER_DAY) if files
    }


def test_the_summary_and_status_tell_the_portal_without_bigquery(db, settings, exported_week):
    summary = db.collection("history").document("summary").get().to_dict()
    assert summary["as_of"] == WEEK[-1].isoformat()
    daily = {entry["period_start"]: entry for entry in summary["daily"]}
    for index, day in enumerate(WEEK):
        entry = daily[day.isoformat()]
        assert entry["resources"] == sum(expected_counts(index).values())
        assert entry["doc_files_changed"] == DOC_FILES_PER_DAY[index]
        if index:
            assert entry["created"] == expected_changes(index)["created"]
            assert entry["deleted"] == expected_changes(index)["deleted"]
    assert sum(summary["by_environment"].values()) == sum(expected_counts(DAYS - 1).values())
    assert {entry["period_start"] for entry in summary["monthly"]} == {
        day.replace(day=1).isoformat() for day in WEEK
    }

    status = db.collection("sync_status").document("history").get().to_dict()
    assert status["state"] == "ok"
    assert status["last_partition"] == WEEK[-1].isoformat()
    assert status["tables"]["asset_snapshots"]["rows"] == sum(expected_counts(DAYS - 1).values())
    assert status["bytes_loaded"] > 0
    assert status["last_error"] is None


def test_rerunning_a_day_replaces_its_partitions_exactly(db, settings, exported_week):
    service, _ = exported_week
    before = {name: _rows_per_day(settings, name) for name in TABLES}

    again = service.run(WEEK[3])

    assert again.outcome == "complete"
    assert {name: _rows_per_day(settings, name) for name in TABLES} == before


def _rows_per_day(settings, table: str) -> dict:
    field = TABLES[table].partition_field
    rows = warehouse(settings).run(
        f"SELECT {field} AS day, COUNT(*) AS n "
        f"FROM `{PROJECT_ID}.{settings.history_dataset}.{table}` GROUP BY {field}"
    )
    return {row["day"]: row["n"] for row in rows}


def test_an_empty_estate_empties_the_day_and_a_failed_listing_keeps_the_last_good_one(
    db, settings, server
):
    service = history_service(settings, db)
    day = WEEK[-1]
    service.run(day)
    full = _rows_per_day(settings, "asset_snapshots")[day]
    assert full > 0

    server.faults[1] = [503] * 5  # page 1 keeps failing: the listing is incomplete
    with pytest.raises(Exception, match="page 1"):
        service.run(day)
    assert _rows_per_day(settings, "asset_snapshots")[day] == full
    status = db.collection("sync_status").document("history").get().to_dict()
    assert status["state"] == "failing"
    assert "page 1" in status["last_error"]["message"]
    assert status["last_partition"] == day.isoformat()  # the last good day, still there

    server.faults.clear()
    server.rewrite = lambda asset: None  # nothing left in the estate
    outcome = service.run(day)
    assert outcome.tables["asset_snapshots"]["rows"] == 0
    assert day not in _rows_per_day(settings, "asset_snapshots")
    assert day not in _rows_per_day(settings, "resource_counts")


def test_a_new_field_is_added_without_breaking_older_partitions(db, settings, bigquery):
    """An older deployment's asset_snapshots table (no ``environment``, no ``data_json``) with a
    row of an old day: the export adds the columns and both days stay queryable."""
    from google.cloud import bigquery as bq

    client = history_client(PROJECT_ID, settings.bigquery_api_endpoint)
    dataset = f"{PROJECT_ID}.{settings.history_dataset}"
    client.create_dataset(dataset)
    old_fields = [
        f for f in TABLES["asset_snapshots"].schema if f.name not in ("environment", "data_json")
    ]
    table = bq.Table(f"{dataset}.asset_snapshots", schema=old_fields)
    table.time_partitioning = bq.TimePartitioning(field="snapshot_date")
    client.create_table(table)
    old_day = WEEK[0] - timedelta(days=1)
    warehouse(settings).run(
        f"INSERT INTO `{dataset}.asset_snapshots` (snapshot_date, name, asset_type) "
        f"VALUES (DATE '{old_day.isoformat()}', '//old/asset', 'old.googleapis.com/Thing')"
    )

    history_service(settings, db).run(WEEK[-1])

    rows = warehouse(settings).run(
        f"SELECT snapshot_date, COUNT(*) AS n, COUNT(environment) AS labelled "
        f"FROM `{dataset}.asset_snapshots` GROUP BY snapshot_date"
    )
    by_day = {row["snapshot_date"]: (row["n"], row["labelled"]) for row in rows}
    assert by_day[old_day] == (1, 0)
    assert by_day[WEEK[-1]][0] == sum(expected_counts(DAYS - 1).values())
    assert by_day[WEEK[-1]][1] == by_day[WEEK[-1]][0]  # every new row has an environment


def test_days_the_listing_cannot_read_are_refused_before_anything_is_written(settings):
    with pytest.raises(UnexportableDay, match="future"):
        source_for_day(settings, TODAY + timedelta(days=1))
    with pytest.raises(UnexportableDay, match="35 days"):
        source_for_day(settings, TODAY - timedelta(days=40))


@pytest.fixture
def http(monkeypatch, settings, emulators):
    for name, value in {
        "LZSYNC_PROJECT_ID": PROJECT_ID,
        "LZSYNC_ASSET_SCOPE": settings.asset_scope,
        "LZSYNC_ASSET_API_ENDPOINT": settings.asset_api_endpoint,
        "LZSYNC_ASSET_REQUESTS_PER_MINUTE": "100000",
        "LZSYNC_BIGQUERY_API_ENDPOINT": settings.bigquery_api_endpoint,
        "LZSYNC_HISTORY_DATASET": settings.history_dataset,
    }.items():
        monkeypatch.setenv(name, value)
    with scheduled_function("bq_export") as client:
        yield client


def test_the_function_exports_the_requested_day_and_refuses_a_bad_one(db, http):
    reply = http.post("/", json={"day": WEEK[-2].isoformat()})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["status"] == "complete"
    assert body["tables"]["asset_snapshots"]["rows"] == sum(expected_counts(DAYS - 2).values())

    for bad in ("2026-13-01", "yesterday", (TODAY + timedelta(days=3)).isoformat()):
        reply = http.post(f"/?day={bad}")
        assert reply.status_code == 400
        assert reply.get_json()["status"] == "refused"
        assert "Traceback" not in json.dumps(reply.get_json())


def test_the_command_line_backfills_a_range_with_progress(db, settings, http):
    import io

    from lzsync.cli import main

    out = io.StringIO()
    code = main(
        ["history", "export", "--from", WEEK[0].isoformat(), "--to", WEEK[2].isoformat()], out
    )

    assert code == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["[1/3]", "[2/3]", "[3/3]"]
    assert lines[-1] == "3 of 3 day(s) exported"
    assert sorted(_rows_per_day(settings, "asset_snapshots")) == WEEK[:3]

    out = io.StringIO()
    old = (TODAY - timedelta(days=40)).isoformat()
    assert main(["history", "export", "--day", old], out) == 1
    assert "35 days" in out.getvalue()


def _billing_schema():
    """The standard Cloud Billing export's columns that cost views read, with their types (a
    subset of the public schema: the view names only these)."""
    from google.cloud.bigquery import SchemaField as F

    return [
        F("billing_account_id", "STRING"),
        F("service", "RECORD", fields=[F("id", "STRING"), F("description", "STRING")]),
        F("sku", "RECORD", fields=[F("id", "STRING"), F("description", "STRING")]),
        F("usage_start_time", "TIMESTAMP"),
        F("usage_end_time", "TIMESTAMP"),
        F(
            "project",
            "RECORD",
            fields=[F("id", "STRING"), F("number", "STRING"), F("name", "STRING")],
        ),
        F("cost", "FLOAT"),
        F("currency", "STRING"),
        F(
            "credits",
            "RECORD",
            mode="REPEATED",
            fields=[
                F("name", "STRING"),
                F("amount", "FLOAT"),
                F("full_name", "STRING"),
                F("id", "STRING"),
                F("type", "STRING"),
            ],
        ),
        F("invoice", "RECORD", fields=[F("month", "STRING")]),
        F("cost_type", "STRING"),
    ]


def test_cost_views_read_the_standard_billing_export(db, settings, bigquery):
    from google.cloud import bigquery as bq

    client = history_client(PROJECT_ID, settings.bigquery_api_endpoint)
    billing_dataset = f"{PROJECT_ID}.billing_{uuid.uuid4().hex[:8]}"
    client.create_dataset(billing_dataset)
    billing_table = f"{billing_dataset}.gcp_billing_export_v1_010101_ABCDEF_012345"
    client.create_table(bq.Table(billing_table, schema=_billing_schema()))
    day = WEEK[-1]
    rows = []
    for hour, (project, cost, credit) in enumerate(
        [("prj-p-svpc", 10.0, -1.5), ("prj-p-svpc", 5.0, 0.0), ("prj-d-app", 2.25, -0.25)]
    ):
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)
        rows.append(
            {
                "billing_account_id": "010101-ABCDEF-012345",
                "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
                "sku": {"id": "D973-5D65-BAB2", "description": "E2 Instance Core"},
                "usage_start_time": start.isoformat(),
                "usage_end_time": (start + timedelta(hours=1)).isoformat(),
                "project": {"id": project, "number": "123", "name": project},
                "cost": cost,
                "currency": "EUR",
                "credits": [{"name": "Sustained use", "amount": credit, "type": "SUSTAINED"}]
                if credit
                else [],
                "invoice": {"month": day.strftime("%Y%m")},
                "cost_type": "regular",
            }
        )
    client.load_table_from_json(rows, billing_table).result()
    with_cost = settings.model_copy(update={"history_billing_export_table": billing_table})

    history_service(with_cost, db).run(day)

    by_project = {
        row["project_id"]: round(row["cost"] + row["credits"], 2)
        for row in view(with_cost, "cost_daily")
    }
    assert by_project == {"prj-p-svpc": 13.5, "prj-d-app": 2.0}
    summary = db.collection("history").document("summary").get().to_dict()
    [today] = [entry for entry in summary["daily"] if entry["period_start"] == day.isoformat()]
    assert today["net_cost"] == 15.5


def test_compliance_history_counts_each_days_violations(
    db, settings, monkeypatch, landing_zone_source
):
    from lzsync.adapters import constraint_store
    from lzsync.adapters.constraint_store import ConstraintStore
    from lzsync.collection_names import Collections
    from tests.helpers import fixture_constraint_files, publish_policies

    monkeypatch.setattr(constraint_store, "_STORES", {})
    publish_policies(db, fixture_constraint_files(landing_zone_source), "c1")
    judge = ConstraintStore(db, Collections()).current().judge
    expected = {
        day: sum(len(judge(asset) or []) for asset in SIM.assets(index))
        for index, day in enumerate(WEEK[-2:], start=DAYS - 2)
    }
    assert all(expected.values()), "the simulated estate violates some constraints"
    service = history_service(settings, db)
    for day in WEEK[-2:]:
        service.run(day)

    daily = view(settings, "violations_daily")
    assert totals_by(daily, "period_start", "violations") == expected
    summary = db.collection("history").document("summary").get().to_dict()
    by_day = {entry["period_start"]: entry["violations"] for entry in summary["daily"]}
    assert {day.isoformat(): by_day[day.isoformat()] for day in WEEK[-2:]} == {
        day.isoformat(): count for day, count in expected.items()
    }


def test_the_days_violations_include_what_iam_policies_reveal(
    db, bigquery, monkeypatch, constraint_files
):
    """IAM policies are listed apart from resources; the history lists them too, so a public
    bucket counts in the day's compliance like in the Portal (the oracle's counts)."""
    from lzsync.adapters import constraint_store
    from lzsync.adapters.asset_sources import ListingIncomplete
    from tests.compliance_oracle import expected_estate
    from tests.helpers import publish_policies

    estate = Simulator(size=600, seed=5, defect_share=0.3)
    monkeypatch.setattr(constraint_store, "_STORES", {})
    publish_policies(db, constraint_files, "c1")
    server = AssetServer(estate).start()
    try:
        settings = settings_for(
            server,
            PROJECT_ID,
            bigquery_api_endpoint=bigquery.endpoint,
            history_dataset=f"h_{uuid.uuid4().hex[:10]}",
            asset_page_size=100,
        )
        # A day whose IAM listing fails is not stored short of its IAM violations.
        server.iam_faults[2] = [403]
        with pytest.raises(ListingIncomplete, match="IAM policy listing failed"):
            history_service(settings, db).run(TODAY - timedelta(days=1))
        assert view(settings, "violations_daily") == []

        history_service(settings, db).run(TODAY - timedelta(days=1))
    finally:
        server.stop()

    expected = expected_estate(estate)
    found = totals_by(view(settings, "violations_daily"), "constraint_name", "violations")
    assert found == dict(expected.by_constraint)
    assert found["deny_allusers"] > 0
    assert found["denylist_public_users"] > 0
