"""Start, check and stop a local BigQuery engine (``bqemulator``) for tests, on loopback.

BigQuery has no Google emulator. ``bqemulator`` (PyPI, DuckDB underneath) speaks BigQuery's REST
API, so the real ``google-cloud-bigquery`` client can drive it. It runs from its own virtualenv
(``.venv-bq``, built by ``make setup``) through ``tools/bqemulator/launch.py``, which makes it
start offline; see that file for what it patches and why. Like the Firestore and Pub/Sub
harness, the server runs in a new process group on a free ``127.0.0.1`` port and the whole group
is killed on exit; ``HOME`` points at a scratch directory so DuckDB writes nothing in the user's.

Usage::

    with running_bigquery("lzsync-test", log_dir) as bq:
        client = bq.client()  # anonymous credentials, api_endpoint = bq.endpoint

Fail fast in tests. The client retries a 500 and a dropped connection for up to 600 s
(``DEFAULT_RETRY``) and re-runs failed query jobs for up to 40 min (``DEFAULT_JOB_RETRY``).
Pass :data:`TEST_RETRY` as ``retry=`` (``insert_rows_json``, ``get_table``, ``query``,
``job.result``) and :data:`TEST_JOB_RETRY` as ``job_retry=`` (``query``, ``result``); they keep
the client's predicates and only shorten the deadline. Prefer them to ``retry=None``: after a
500 the emulator drops the kept-alive connection and the next call on that client can fail
once with ``ConnectionError`` unless it may retry.

Gaps of bqemulator 1.4.0 against BigQuery, measured with google-cloud-bigquery 3.47.0. Tests in
``tests/integration/test_bigquery_harness.py`` pin all but the last item; a ``*_gap`` test
fails once the emulator closes its gap, so the workaround can go:

- Partition decorators are not understood. A load job into ``table$YYYYMMDD`` fails with 400
  "Invalid table id for SQL"; a query on ``table$YYYYMMDD`` answers 404; ``list_partitions``
  (``table$__PARTITIONS_SUMMARY__``) answers 404. Workaround that behaves the same on both:
  ``DELETE FROM table WHERE day = @day`` then a ``WRITE_APPEND`` load of that day's rows. It is
  not atomic (a reader between the two steps sees the day empty), unlike a decorated
  ``WRITE_TRUNCATE`` on BigQuery.
- A multipart load (``load_table_from_json``, ``load_table_from_file`` given ``size``) is refused
  with 400 because the client labels the data ``*/*``. The launcher makes the emulator accept
  it, so tests use the production client unchanged; a resumable load (``load_table_from_file``
  without ``size``) never needed that.
- ``LoadJob.output_rows`` is the table's row count after the load, not the rows loaded.
- A streaming row of the wrong type (``insert_rows_json``) answers 500 for the whole request;
  BigQuery answers 200 with per-row ``insertErrors``. A row with an unknown field is accepted
  and the field dropped; BigQuery reports it as an insert error unless
  ``ignore_unknown_values`` is set.
- A query job with a destination table does not create that table.
- ``_PARTITIONDATE`` on a column-partitioned table returns no rows where BigQuery rejects the
  query (measured earlier, see the shared EMULATORS.md); GEOGRAPHY and ``ST_*`` are unavailable
  because the launcher skips the spatial extension.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import google.auth.transport.requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY

from lzsync.devtools.emulators import (
    LOOPBACK,
    READY_TIMEOUT_SECONDS,
    EmulatorError,
    free_port,
    stop_process_group,
    wait_until_ready,
)

_log = logging.getLogger("lzsync.devtools")

RETRY_TIMEOUT_SECONDS: Final = 3.0
# The client's own predicates, a test-sized deadline (see the module docstring).
TEST_RETRY: Final = DEFAULT_RETRY.with_timeout(RETRY_TIMEOUT_SECONDS)
TEST_JOB_RETRY: Final = DEFAULT_JOB_RETRY.with_timeout(RETRY_TIMEOUT_SECONDS)

_START_ATTEMPTS: Final = 3
_VENV_PYTHON: Final = Path(".venv-bq/bin/python")
_LAUNCHER: Final = Path("tools/bqemulator/launch.py")


def project_root() -> Path:
    """The repository root; the package is installed editable, so this is the checkout."""
    return Path(__file__).resolve().parents[3]


def launcher_command(root: Path | None = None) -> list[str]:
    """``[python, launch.py]`` of the bqemulator virtualenv, or a clear error if it is missing."""
    root = project_root() if root is None else root
    python, launcher = root / _VENV_PYTHON, root / _LAUNCHER
    if not python.exists():
        raise EmulatorError(
            f"bqemulator virtualenv missing at {python.parents[1]}: run `make setup`"
        )
    if not launcher.exists():
        raise EmulatorError(f"bqemulator launcher missing at {launcher}")
    return [str(python), str(launcher)]


def _anonymous_loopback_session() -> google.auth.transport.requests.AuthorizedSession:
    """An HTTP session that ignores proxy variables: the emulator is on loopback, always."""
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    session = google.auth.transport.requests.AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    session.trust_env = False
    return session


@dataclass
class BigQueryEmulator:
    """A running bqemulator: where it listens, for which project, and its process group."""

    project: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def client(self) -> bigquery.Client:
        """The production client class, with anonymous credentials, aimed at this emulator."""
        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.endpoint),
            _http=_anonymous_loopback_session(),
        )

    def stop(self) -> None:
        stop_process_group(self.process)


def _child_env(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BQEMU_") and key != "GOOGLE_APPLICATION_CREDENTIALS"
    }
    env.update(
        HOME=str(home),
        # bqemulator stages uploaded load data here (default: the system temp dir).
        BQEMU_UPLOAD_STAGING_DIR=str(home / "uploads"),
        NO_GCE_CHECK="True",
    )
    return env


def _launch(project: str, command: list[str], log_dir: Path, home: Path) -> BigQueryEmulator:
    port = free_port()
    log_path = log_dir / f"bigquery-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, LOOPBACK, str(port), project],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=_child_env(home),
            start_new_session=True,
        )
    emulator = BigQueryEmulator(project, port, process, log_path)
    try:
        wait_until_ready(f"{emulator.endpoint}/readyz", process, READY_TIMEOUT_SECONDS)
        if process.poll() is not None:  # someone else answered on the port we lost
            raise EmulatorError(f"bqemulator exited with {process.returncode}, see {log_path}")
    except EmulatorError:
        emulator.stop()
        raise
    return emulator


def start_bigquery(project: str, log_dir: Path, home: Path) -> BigQueryEmulator:
    """Start bqemulator on a free loopback port, retrying when another process takes it first."""
    command = launcher_command()
    log_dir.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    last_error: EmulatorError | None = None
    for _ in range(_START_ATTEMPTS):
        try:
            return _launch(project, command, log_dir, home)
        except EmulatorError as error:
            last_error = error
            _log.warning("emulator start failed, retrying", extra={"emulator": "bigquery"})
    raise EmulatorError(f"bigquery emulator did not start: {last_error}")


@contextlib.contextmanager
def running_bigquery(project: str, log_dir: Path) -> Iterator[BigQueryEmulator]:
    """Start bqemulator (its ``HOME`` under ``log_dir``), yield it, always kill its group."""
    emulator = start_bigquery(project, log_dir, log_dir / "bigquery-home")
    try:
        yield emulator
    finally:
        emulator.stop()
