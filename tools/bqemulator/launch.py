"""Run the ``bqemulator`` BigQuery emulator on a given loopback host and port, offline.

Why this file exists: bqemulator 1.4.0 insists on ``INSTALL spatial`` + ``LOAD spatial`` when
its DuckDB engine starts and aborts if that fails. On our machines the only network is the
package registries, so the download of DuckDB's spatial extension fails and the emulator never
starts. This launcher replaces that one start-up step, in this process only and before the
CLI runs (site-packages stays untouched), with a best-effort ``LOAD`` of an already cached
extension and no download at all. GEOGRAPHY and ``ST_*`` functions are then unavailable, which
lzsync does not use. It also turns off DuckDB's automatic extension download and bqemulator's
``avro`` extension install, so the emulator never reaches for any host.

One more patch, for fidelity: ``google-cloud-bigquery`` sends the data part of a multipart load
job (``load_table_from_json``, or ``load_table_from_file`` with ``size``) as ``*/*``, which
BigQuery accepts and bqemulator refuses with 400. Accepting it here lets tests drive the
unmodified production client instead of a doctored one.

Run it with the python of the bqemulator virtualenv (``.venv-bq``, built by ``make setup``)::

    .venv-bq/bin/python tools/bqemulator/launch.py HOST PORT [PROJECT]

``lzsync.devtools.bigquery_emulator`` does this for tests; point ``HOME`` at a scratch
directory so DuckDB keeps its files out of the user's home.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from bqemulator import cli
from bqemulator.api.routes import upload
from bqemulator.storage import engine

_USAGE = "usage: launch.py HOST PORT [PROJECT]"


def _load_spatial_if_cached(self: Any) -> None:
    """Replacement for ``DuckDBEngine._load_spatial``: never download, never fail start-up."""
    connection = self.connection
    # NOTE: without this DuckDB fetches a known extension on first use of one of its functions.
    connection.execute("SET autoinstall_known_extensions = false")
    try:
        connection.execute("LOAD spatial")
    except Exception as error:  # duckdb raises several types; any of them means "not cached"
        print(f"bqemulator launcher: spatial extension not loaded ({error})", file=sys.stderr)


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(_USAGE)
    host, port = argv[0], argv[1]
    engine.DuckDBEngine._load_spatial = _load_spatial_if_cached  # type: ignore[method-assign]
    # The client's generic media type (google.cloud.bigquery.client._GENERIC_CONTENT_TYPE).
    upload._PERMITTED_MEDIA_CONTENT_TYPES += ("*/*",)
    # bqemulator reads its settings from BQEMU_* variables; this is the only switch for avro.
    os.environ["BQEMU_ENABLE_FORMAT_EXTENSIONS"] = "false"
    args = ["start", "--rest-host", host, "--rest-port", port, "--grpc-host", host]
    # gRPC (Storage Read/Write API) is unused by our tests: any free port, never the default.
    args += ["--grpc-port", "0", "--ephemeral", "--log-format", "json"]
    if len(argv) == 3:
        args += ["--project", argv[2]]
    cli.main(args, prog_name="bqemulator")


if __name__ == "__main__":
    main(sys.argv[1:])
