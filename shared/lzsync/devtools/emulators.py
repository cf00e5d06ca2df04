"""Start, check and stop the gcloud SDK's Firestore and Pub/Sub emulators on loopback.

The emulators' own start scripts are launched from the SDK directory in a new process group,
and the whole group is killed on stop: stopping the ``gcloud emulators`` wrapper was seen to
leave the Java process running and holding its port. Readiness is ``GET /`` answering ``Ok``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_log = logging.getLogger("lzsync.devtools")

LOOPBACK: Final = "127.0.0.1"
READY_TIMEOUT_SECONDS: Final = 60.0
STOP_TIMEOUT_SECONDS: Final = 10.0
_START_ATTEMPTS: Final = 3
# Loopback only, whatever proxy the environment names.
_DIRECT: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorError(RuntimeError):
    """An emulator could not be found, started or reached."""


def free_port() -> int:
    """A port nobody listens on right now (another process may still take it: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def sdk_root() -> Path:
    """The gcloud SDK directory: ``CLOUDSDK_ROOT_DIR``, else next to the ``gcloud`` binary."""
    configured = os.environ.get("CLOUDSDK_ROOT_DIR")
    if configured:
        return Path(configured)
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise EmulatorError("gcloud SDK not found: install it or set CLOUDSDK_ROOT_DIR")
    return Path(gcloud).resolve().parent.parent


def wait_until_ready(
    url: str,
    process: subprocess.Popen[bytes] | None,
    timeout: float,
    *,
    any_status: bool = False,
) -> None:
    """Poll ``url`` until it answers 200 (any HTTP status with ``any_status``), the process
    dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmulatorError(f"process for {url} exited with {process.returncode}")
        try:
            with _DIRECT.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError:
            if any_status:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise EmulatorError(f"{url} not ready after {timeout:.0f} s")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it spawned."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Emulator:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        stop_process_group(self.process)


def _launch(name: str, command: list[str], port: int, log_dir: Path) -> Emulator:
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    emulator = Emulator(name, port, process, log_path)
    try:
        wait_until_ready(f"http://{emulator.host}/", process, READY_TIMEOUT_SECONDS)
    except EmulatorError:
        emulator.stop()
        raise
    return emulator


def _start(name: str, command_for_port: list[str], log_dir: Path) -> Emulator:
    last_error: EmulatorError | None = None
    for _ in range(_START_ATTEMPTS):  # a free port can be taken between probe and bind
        port = free_port()
        command = [part.replace("{port}", str(port)) for part in command_for_port]
        try:
            return _launch(name, command, port, log_dir)
        except EmulatorError as error:
            last_error = error
            _log.warning("emulator start failed, retrying", extra={"emulator": name})
    raise EmulatorError(f"{name} emulator did not start: {last_error}")


def start_firestore(log_dir: Path) -> Emulator:
    script = sdk_root() / "platform/cloud-firestore-emulator/cloud_firestore_emulator"
    if not script.exists():
        raise EmulatorError(f"Firestore emulator not installed at {script}")
    return _start(
        "firestore", [str(script), "start", f"--host={LOOPBACK}", "--port={port}"], log_dir
    )


def start_pubsub(log_dir: Path) -> Emulator:
    script = sdk_root() / "platform/pubsub-emulator/bin/cloud-pubsub-emulator"
    if not script.exists():
        raise EmulatorError(f"Pub/Sub emulator not installed at {script}")
    return _start("pubsub", [str(script), f"--host={LOOPBACK}", "--port={port}"], log_dir)


class EmulatorSuite:
    """Both emulators, started in parallel; :meth:`env` holds the variables clients read."""

    def __init__(self, project_id: str, log_dir: Path) -> None:
        self.project_id = project_id
        self._log_dir = log_dir
        self.firestore: Emulator | None = None
        self.pubsub: Emulator | None = None

    def start(self) -> EmulatorSuite:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=2) as pool:
            firestore = pool.submit(start_firestore, self._log_dir)
            pubsub = pool.submit(start_pubsub, self._log_dir)
            try:
                self.firestore = firestore.result()
                self.pubsub = pubsub.result()
            except BaseException:
                for future in (firestore, pubsub):
                    if future.done() and future.exception() is None:
                        future.result().stop()
                raise
        return self

    def stop(self) -> None:
        for emulator in (self.firestore, self.pubsub):
            if emulator is not None:
                emulator.stop()

    def env(self) -> dict[str, str]:
        """Environment for clients and child processes: emulators only, never Google."""
        if self.firestore is None or self.pubsub is None:
            raise EmulatorError("emulators not started")
        return {
            "FIRESTORE_EMULATOR_HOST": self.firestore.host,
            "PUBSUB_EMULATOR_HOST": self.pubsub.host,
            "GOOGLE_CLOUD_PROJECT": self.project_id,
            "LZSYNC_PROJECT_ID": self.project_id,
            "NO_GCE_CHECK": "True",
        }

    def reset_firestore(self) -> None:
        """Delete every document (the emulator's own reset endpoint)."""
        if self.firestore is None:
            raise EmulatorError("Firestore emulator not started")
        url = (
            f"http://{self.firestore.host}/emulator/v1/projects/{self.project_id}"
            "/databases/(default)/documents"
        )
        request = urllib.request.Request(url, method="DELETE")
        with _DIRECT.open(request, timeout=30) as response:
            if response.status != 200:
                raise EmulatorError(f"Firestore reset answered {response.status}")


@contextlib.contextmanager
def running_emulators(project_id: str, log_dir: Path) -> Iterator[EmulatorSuite]:
    """Start both emulators, export their variables into ``os.environ``, always stop them."""
    suite = EmulatorSuite(project_id, log_dir).start()
    saved = {key: os.environ.get(key) for key in suite.env()}
    os.environ.update(suite.env())
    try:
        yield suite
    finally:
        suite.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
