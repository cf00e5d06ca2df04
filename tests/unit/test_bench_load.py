"""The load section's bookkeeping: results merged, not clobbered; queue growth read from the
backlog's trend; and docs/benchmarks.md saying exactly what bench/results.json says."""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import RESULTS, merge_results, read_results
from bench.load_feed import backlog_growth_per_second
from bench.report import PAGE, render


def test_merging_results_keeps_the_other_benchmarks_keys(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"webhook_ack": {"p50_ms": 22.5}, "load": {"old": True}}))

    merge_results({"load": {"new": True}}, path)

    assert read_results(path) == {"webhook_ack": {"p50_ms": 22.5}, "load": {"new": True}}


def test_merging_into_a_missing_file_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "results.json"

    merge_results({"load": {"new": True}}, path)

    assert read_results(path) == {"load": {"new": True}}


def test_a_steady_backlog_has_no_growth_and_a_growing_one_grows_at_its_rate() -> None:
    steady = [{"at_seconds": t, "backlog": 40 + (t % 2)} for t in range(5, 60, 5)]
    growing = [{"at_seconds": t, "backlog": 100 * t} for t in range(5, 60, 5)]

    steady_growth = backlog_growth_per_second(steady)
    assert steady_growth is not None
    assert abs(steady_growth) < 1
    assert backlog_growth_per_second(growing) == 100.0


def test_ramp_up_samples_alone_give_no_growth_figure() -> None:
    assert backlog_growth_per_second([{"at_seconds": 2.0, "backlog": 300}]) is None


def test_the_benchmarks_page_matches_the_results_file() -> None:
    load = read_results(RESULTS).get("load")
    assert load is not None, "bench/results.json has no load section: run make bench-load"

    assert PAGE.read_text() == render(load)
