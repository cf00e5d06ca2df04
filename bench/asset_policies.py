"""``make bench`` (IAM policies): what the snapshot's IAM pass holds in memory.

The IAM pass keeps one entry per asset that has a policy (``name → bindings`` as compact JSON)
for the length of a run. This lists 100,000 policies, shaped as CAI returns them for a landing
zone's projects, buckets and service accounts (3 bindings, 1 to 4 members each), through
:func:`lzsync.services.asset_policies.list_policies` and reports the process's resident memory
before and after (Linux ``/proc/self/statm``), in its own process so nothing else is counted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any, Final

from lzsync.adapters.asset_sources import AssetPage
from lzsync.devtools import landing_zone
from lzsync.services.asset_policies import list_policies

SIZE: Final = 100_000
PAGE_SIZE: Final = 1000
RESULTS: Final = landing_zone.project_root() / "bench" / "results-policies.json"


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _policy(number: int) -> dict[str, Any]:
    project = f"prj-{number % 500:03d}-{number:06d}"
    return {
        "version": 1,
        "etag": f"BwX{number:08d}=",
        "bindings": [
            {"role": "roles/owner", "members": [f"group:admins-{number % 50}@example.com"]},
            {
                "role": "roles/viewer",
                "members": [
                    f"user:dev{number % 97}@example.com",
                    f"group:readers-{number % 13}@example.com",
                    f"serviceAccount:ci@{project}.iam.gserviceaccount.com",
                    "domain:example.com",
                ],
            },
            {
                "role": "roles/storage.objectViewer",
                "members": [f"serviceAccount:app@{project}.iam.gserviceaccount.com"],
            },
        ],
    }


class _Policies:
    def pages(self) -> Iterator[AssetPage]:
        for page in range(SIZE // PAGE_SIZE):
            yield AssetPage(
                page,
                [
                    {
                        "name": f"//storage.googleapis.com/bkt-{n:06d}-landing-zone-data",
                        "assetType": "storage.googleapis.com/Bucket",
                        "iamPolicy": _policy(n),
                    }
                    for n in range(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)
                ],
            )


def main() -> None:
    before = _rss_mib()
    started = time.perf_counter()
    index = list_policies(_Policies())
    seconds = time.perf_counter() - started
    after = _rss_mib()
    results = {
        "machine": {"cpus": os.cpu_count()},
        "policies": len(index.policies),
        "seconds": round(seconds, 2),
        "rss_before_mib": round(before, 1),
        "rss_after_mib": round(after, 1),
        "held_mib": round(after - before, 1),
        "bytes_per_policy": round((after - before) * 2**20 / len(index.policies)),
        "json_bytes_per_policy": round(
            sum(len(text) for text in index.policies.values()) / len(index.policies)
        ),
    }
    print(json.dumps(results), flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
