"""The metrics module: counters that are thread-safe, scoped per invocation, and logged."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from pathlib import Path

import pytest

from lzsync import metrics, pricing
from lzsync.adapters.firestore_metering import python_value_size, stored_document_size
from lzsync.cli import main
from lzsync.logic.cost_model import Measured, Rates, Unit, price_month
from lzsync.logs import json_handler

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_counters():
    metrics.reset()
    yield
    metrics.reset()


def test_counting_from_many_threads_loses_nothing():
    def work() -> None:
        for _ in range(5000):
            metrics.count(metrics.FIRESTORE_READS)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert metrics.snapshot()[metrics.FIRESTORE_READS] == 16 * 5000


def test_a_scope_sees_only_its_own_thread_while_the_process_sees_all():
    inside = threading.Event()
    done = threading.Event()

    def other() -> None:
        inside.wait()
        metrics.count(metrics.FIRESTORE_WRITES, 7)
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with metrics.scope() as tally:
        metrics.count(metrics.FIRESTORE_WRITES, 2)
        inside.set()
        done.wait()
    thread.join()

    assert tally == {metrics.FIRESTORE_WRITES: 2}
    assert metrics.snapshot()[metrics.FIRESTORE_WRITES] == 9


def test_an_invocation_logs_one_line_with_its_counts_and_bills_whole_100_ms():
    stream = io.StringIO()
    logger = logging.getLogger(metrics.METRICS_LOGGER)
    handler = json_handler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # Only this handler: another one (the lzsync stdout handler) would format and count too.
    propagate, logger.propagate = logger.propagate, False
    try:
        with metrics.invocation("webhook", metrics.FunctionSize(1024, 1.0)):
            metrics.count(metrics.FIRESTORE_READS, 3)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["function"] == "webhook"
    assert line["logging.googleapis.com/labels"] == {"lzsync_metrics": "true"}
    assert line["metrics"][metrics.FIRESTORE_READS] == 3
    assert line["metrics"][metrics.FUNCTION_INVOCATIONS] == 1
    assert line["metrics"][metrics.FUNCTION_GB_SECONDS] == pytest.approx(0.1)
    assert line["metrics"][metrics.FUNCTION_VCPU_SECONDS] == pytest.approx(0.1)
    # The JSON handler counted the line it wrote.
    assert metrics.snapshot()[metrics.LOG_BYTES] == len(stream.getvalue().encode())


def test_pubsub_bills_at_least_a_kilobyte_per_message():
    metrics.count_published(b"x" * 10)
    metrics.count_delivered(b"y" * 1500, {"k": "v"})

    counted = metrics.snapshot()
    assert counted[metrics.PUBSUB_PUBLISHED_BYTES] == 1000
    assert counted[metrics.PUBSUB_DELIVERED_BYTES] == 1502


def test_document_sizes_follow_firestores_storage_size_example():
    # "Storage size calculations": users/jeff/tasks/my_task_id with these fields is 147 bytes.
    data = {
        "type": "Personal",
        "done": False,
        "priority": 1,
        "description": "Learn Cloud Firestore",
    }
    path = "users/jeff/tasks/my_task_id"

    assert python_value_size(data) == 71
    assert stored_document_size(path, data) == 147


def _cron_runs_per_day(cron: str) -> int:
    minute, hour = cron.split()[:2]
    if minute.startswith("*/"):
        return 24 * 60 // int(minute[2:])
    if hour.startswith("*/"):
        return 24 // int(hour[2:])
    return 1


def test_the_price_model_uses_the_sizes_and_schedules_infra_deploys():
    functions_tf = (ROOT / "infra" / "functions.tf").read_text()
    for name, size in pricing.DEPLOYED_SIZES.items():
        match = re.search(
            rf'{name}\s*=\s*{{ memory = "(\d+)Mi", cpu = (null|"[\d.]+")', functions_tf
        )
        assert match, name
        assert int(match.group(1)) == size.memory_mib
        if match.group(2) != "null":
            assert float(match.group(2).strip('"')) == size.vcpus
    variables = (ROOT / "infra" / "variables.tf").read_text()
    schedules = dict(
        re.findall(r'variable "(\w+)_schedule" \{.*?default\s*=\s*"([^"]+)"', variables, re.S)
    )
    from lzsync.logic import cost_model

    assert _cron_runs_per_day(schedules["snapshot"]) == cost_model.SNAPSHOTS_PER_DAY
    assert _cron_runs_per_day(schedules["git_reconcile"]) == cost_model.GIT_SCHEDULED_PER_DAY
    assert _cron_runs_per_day(schedules["history"]) == cost_model.HISTORY_PER_DAY
    assert _cron_runs_per_day(schedules["freshness"]) == cost_model.FRESHNESS_PER_DAY
    assert (
        len(
            re.findall(
                r'resource "google_cloud_scheduler_job"',
                (ROOT / "infra" / "scheduler.tf").read_text(),
            )
        )
        == pricing.SCHEDULER_JOBS
    )


def _tiny_measurement() -> Measured:
    def unit(name: str, count: int = 1, **counters: float) -> Unit:
        return Unit(name, count, dict(counters), 0.5)

    reads = metrics.FIRESTORE_READS
    return Measured(
        assets=10,
        units={
            "snapshot_unchanged": unit("snapshot_unchanged", 2, **{reads: 2 * 260}),
            "snapshot_changed": unit("snapshot_changed", 1, **{reads: 270}),
            "snapshot_changes": unit("snapshot_changes", 5),
            "event": unit("event", 1, **{reads: 2, metrics.FIRESTORE_WRITES: 3}),
            "push": unit("push", 1),
            "git_schedule": unit("git_schedule", 1, **{reads: 16}),
            "history": unit("history", 1, **{metrics.BIGQUERY_BYTES_LOADED: 1000}),
            "freshness": unit("freshness", 1, **{reads: 5}),
        },
        firestore_documents=10,
        firestore_stored_bytes=10_000,
        activity_entry_bytes=500,
    )


def test_a_month_is_the_units_times_the_schedules_priced_by_the_table():
    report = price_month(_tiny_measurement(), Rates(100, 10), "nam5")

    # reads/month: 8,640 unchanged snapshots x 260 + 3,000 changes x (2 + (270-260)/5)
    # + 120 git runs x 16 + 2,880 freshness checks x 5
    reads = 8640 * 260 + 3000 * (2 + 2) + 120 * 16 + 2880 * 5
    line = next(item for item in report.lines if item.item == "document reads")
    assert line.quantity == pytest.approx(reads)
    assert line.list_usd == pytest.approx(reads / 100_000 * 0.06)
    assert line.billed_usd == pytest.approx((reads - 50_000 * 30) / 100_000 * 0.06)
    scheduler = next(item for item in report.lines if item.service == "Cloud Scheduler")
    assert (scheduler.list_usd, scheduler.billed_usd) == pytest.approx((0.40, 0.10))


def test_cost_report_reprices_a_saved_measurement_as_json(tmp_path):
    from lzsync.devtools.cost_report import measured_json

    saved = tmp_path / "measured.json"
    saved.write_text(json.dumps({"measured": measured_json(_tiny_measurement())}))
    out = io.StringIO()

    code = main(["cost-report", "--measurement", str(saved), "--json", "--scale-to", "100"], out)

    assert code == 0
    reports = json.loads(out.getvalue())
    assert [r["assets"] for r in reports] == [10, 100]
    assert reports[1]["scaled"] is True
    assert reports[0]["prices_read_on"] == pricing.PRICES_READ_ON
    total = sum(line["billed_usd"] for line in reports[0]["lines"])
    assert reports[0]["total_usd"] == pytest.approx(total, abs=1e-3)
