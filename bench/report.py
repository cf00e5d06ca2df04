"""Write docs/benchmarks.md from the ``load`` key of ``bench/results.json``.

The page is generated, never edited by hand, so that its tables always say what the file says;
``make bench`` and ``make bench-load`` regenerate it after measuring.
"""

from __future__ import annotations

from typing import Any, Final

from bench.common import RESULTS, read_results
from lzsync.devtools.landing_zone import project_root

PAGE: Final = project_root() / "docs" / "benchmarks.md"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _n(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _drained(run: dict[str, Any]) -> str:
    seconds, unapplied = run["drain_seconds"], run.get("unapplied_after_drain")
    if seconds is not None:
        return f"drained in {seconds} s"
    return f"{unapplied:,} never applied (stalled or timed out)" if unapplied else "not drained"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _machine(load: dict[str, Any]) -> list[str]:
    machine = load["machine"]
    emulators = ", ".join(f"{name} {version}" for name, version in machine["emulators"].items())
    rows = [
        ["measured at", load["measured_at"]],
        ["CPUs", str(machine["cpus"])],
        ["RAM", f"{machine['ram_gib']} GiB"],
        ["platform", f"{machine['platform']} ({machine['processor']})"],
        ["Python", machine["python"]],
        ["Java (emulators)", machine.get("java") or "n/a"],
        ["emulators", emulators or "n/a"],
        ["co-located", load["co_located"]],
        [
            "load average (1, 5, 15 min) before / after",
            f"{load['load_average_before']} / {load['load_average_after']}",
        ],
        ["configuration", ", ".join(f"{key}={value}" for key, value in load["config"].items())],
        ["section wall time", f"{load['section_seconds']} s"],
    ]
    if load.get("note"):
        rows.append(["note", load["note"]])
    return _table(["", ""], rows)


def _webhook(webhook: dict[str, Any]) -> list[str]:
    rows = [
        [
            str(level["clients"]),
            f"{level['requests_per_second']:,}",
            _ms(level["latency_all"].get("p50_ms")),
            _ms(level["latency_all"].get("p99_ms")),
            _n(level["accepted"]),
            _n(level["refused_or_failed"]),
            ", ".join(f"{key}: {count}" for key, count in level["outcomes"].items()),
        ]
        for level in webhook["levels"]
    ]
    header = ["clients", "requests/s", "p50", "p99", "accepted", "refused or failed", "answers"]
    return [
        *_table(header, rows),
        "",
        f"Rate limiter: {webhook['rate_limiter']}. Accepted as counted by the function "
        f"(`sync_status/webhook` counters, warm-up included): "
        f"{_n(webhook['function_counted_accepted'])}; by the clients: "
        f"{_n(webhook['client_counted_accepted'])}. Function threads: "
        f"{webhook['function_threads']}; {webhook['payloads']} octokit push payloads, each "
        "delivery with a fresh id.",
    ]


def _feed(feed: dict[str, Any]) -> list[str]:
    rows = []
    for rate in feed["rates"]:
        listener = rate["document_listener"]
        rows.append(
            [
                f"{rate['offered_per_second']}/s for {rate['seconds']} s",
                f"{rate['applied_per_second']:,}",
                _n(rate["backlog_at_end"]),
                _n(rate["backlog_growth_per_second"]),
                _drained(rate),
                _ms(listener["p50_ms"]),
                _ms(listener["p99_ms"]),
                f"{listener['seen']:,} / {listener['expected']:,}",
                "yes" if rate["sustained"] else "no",
            ]
        )
    header = [
        "offered",
        "applied/s while publishing",
        "backlog at end",
        "backlog growth (events/s)",
        "after publishing",
        "publish → listener p50",
        "p99",
        "seen / expected",
        "sustained",
    ]
    return [
        *_table(header, rows),
        "",
        f"Estate {feed['estate']:,} assets (snapshotted first, so events update). Sustained: "
        f"{feed['sustained_rule']}.",
    ]


def _snapshot(run: dict[str, Any]) -> list[str]:
    snapshot, final = run["snapshot"], run["final_state"]
    before, during = run["latency_without_snapshot"], run["latency_during_snapshot"]
    rows = [
        [
            "snapshot (first run, own process)",
            f"{run['assets']:,} assets, "
            f"{snapshot['wall_seconds']} s ({snapshot['assets_per_second']:,} assets/s), peak RSS "
            f"{snapshot['peak_rss_mib']} MiB, outcome {snapshot['outcome']}",
        ],
        [
            "snapshot writes",
            f"{snapshot['written']:,} written, {snapshot.get('superseded', 0):,} "
            "kept because an event had written a newer version",
        ],
        [
            "feed",
            f"{run['offered_per_second']}/s offered, {run['events']:,} events over "
            f"{run['feed_seconds']} s; backlog {run['backlog_at_end']:,} when publishing stopped, "
            f"then {_drained(run)}",
        ],
        [
            "publish → listener, before the snapshot (baseline)",
            f"p50 {_ms(before['p50_ms'])}, p99 "
            f"{_ms(before['p99_ms'])} ({before['seen']:,} of {before['expected']:,} seen)",
        ],
        [
            "publish → listener, during snapshot",
            f"p50 {_ms(during['p50_ms'])}, p99 "
            f"{_ms(during['p99_ms'])} ({during['seen']:,} of {during['expected']:,} seen)",
        ],
        [
            "final state: documents older than their newest event",
            f"{final['older_than_event']:,}"
            f" of {final['checked']:,} event-changed assets: "
            f"**{final['overwritten_by_listing']:,} applied, then overwritten by the listing**, "
            f"{final['event_not_applied']:,} not applied when checked; "
            f"{final['missing']:,} missing",
        ],
    ]
    return _table(["measure", "result"], rows)


def render(load: dict[str, Any]) -> str:
    lines = [
        "# Load benchmarks",
        "",
        "Generated by `python -m bench.report` from the `load` key of `bench/results.json`",
        "(`make bench-load` measures, then regenerates this page); do not edit by hand.",
        "These are emulator figures on one small machine where every process shares the same",
        "cores: they show where time goes and catch regressions, they do not predict Cloud",
        "Functions. See `bench/load.py` for what each part does.",
        "",
        "## Machine",
        "",
        *_machine(load),
        "",
        "## Webhook under concurrent clients",
        "",
        *_webhook(load["webhook"]),
        "",
        "## Feed at fixed offered rates",
        "",
        *_feed(load["feed_sustained"]),
        "",
        "## Snapshot during a feed",
        "",
        *_snapshot(load["snapshot_during_feed"]),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    load = read_results().get("load")
    if load is None:
        raise SystemExit(f"no 'load' key in {RESULTS}: run `make bench-load` first")
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(render(load))
    print(f"written to {PAGE}")


if __name__ == "__main__":
    main()
