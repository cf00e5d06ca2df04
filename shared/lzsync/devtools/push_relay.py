"""Deliver a pull subscription's messages to a function the way a push subscription does.

The Pub/Sub emulator pushes one message at a time (~60 ms each on this machine), far below what
Pub/Sub itself does against Cloud Run, which runs many deliveries concurrently. For load tests
and the live demo, this relay pulls and POSTs each message as a push envelope
(``{"message": {...}, "subscription": ...}``) with up to ``concurrency`` in flight: 2xx
acknowledges, anything else nacks, so redelivery and the subscription's dead-letter policy
behave as with push.

It pulls with plain unary ``Pull`` calls, not the client library's streaming pull, because it
must survive losing Pub/Sub as a push subscription does: when the connection dropped mid-burst
(tests/faults/test_pubsub_outages.py), the streaming pull gave up reopening its stream while
flow control had it paused and never pulled again, though Pub/Sub was back. Here a failed pull
is simply made again, and an acknowledgement that fails is retried until it lands or the ack
deadline has passed (then Pub/Sub redelivers, which the functions are built to absorb).
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import requests
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

_PULL_TIMEOUT_SECONDS: Final = 5.0
_IDLE_SECONDS: Final = 0.05  # between pulls that found nothing
_RETRY_SECONDS: Final = 0.2  # between attempts while Pub/Sub is unreachable
_ACK_GIVE_UP_SECONDS: Final = 60.0  # the stack's ack deadline: redelivered after that anyway


class PushRelay:
    def __init__(self, subscription_path: str, endpoint: str, concurrency: int = 32) -> None:
        self._subscription = subscription_path
        self._endpoint = endpoint
        self._concurrency = concurrency
        self._local = threading.local()
        self._subscriber = pubsub_v1.SubscriberClient()
        self._pool = ThreadPoolExecutor(max_workers=concurrency)
        self._in_flight = 0
        self._slots = threading.Condition()
        self._stopping = threading.Event()
        self._puller: threading.Thread | None = None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # loopback only
        return session

    def _pull(self) -> None:
        while not self._stopping.is_set():
            with self._slots:
                while self._in_flight >= self._concurrency and not self._stopping.is_set():
                    self._slots.wait(_RETRY_SECONDS)
                free = self._concurrency - self._in_flight
            if free <= 0:
                continue
            try:
                response = self._subscriber.pull(
                    request={
                        "subscription": self._subscription,
                        "max_messages": free,
                        "return_immediately": True,
                    },
                    timeout=_PULL_TIMEOUT_SECONDS,
                )
            except Exception:  # connection lost or refused: pull again once it is back
                self._stopping.wait(_RETRY_SECONDS)
                continue
            if not response.received_messages:
                self._stopping.wait(_IDLE_SECONDS)
                continue
            with self._slots:
                self._in_flight += len(response.received_messages)
            for received in response.received_messages:
                self._pool.submit(self._deliver, received)

    def _deliver(self, received: Any) -> None:
        try:
            message = received.message
            envelope = {
                "subscription": self._subscription,
                "message": {
                    "data": base64.b64encode(message.data).decode(),
                    "attributes": dict(message.attributes),
                    "messageId": message.message_id,
                    "publishTime": message.publish_time.isoformat(),
                },
            }
            try:
                response = self._session().post(self._endpoint, json=envelope, timeout=60)
                accepted = 200 <= response.status_code < 300
            except requests.RequestException:
                accepted = False
            self._settle(received.ack_id, accepted)
        finally:
            with self._slots:
                self._in_flight -= 1
                self._slots.notify()

    def _settle(self, ack_id: str, accepted: bool) -> None:
        """Acknowledge (or nack: deadline 0), retrying while Pub/Sub is unreachable."""
        give_up = time.monotonic() + _ACK_GIVE_UP_SECONDS
        while not self._stopping.is_set() and time.monotonic() < give_up:
            try:
                if accepted:
                    self._subscriber.acknowledge(
                        request={"subscription": self._subscription, "ack_ids": [ack_id]},
                        timeout=_PULL_TIMEOUT_SECONDS,
                    )
                else:
                    self._subscriber.modify_ack_deadline(
                        request={
                            "subscription": self._subscription,
                            "ack_ids": [ack_id],
                            "ack_deadline_seconds": 0,
                        },
                        timeout=_PULL_TIMEOUT_SECONDS,
                    )
                return
            except Exception:  # not reachable yet
                self._stopping.wait(_RETRY_SECONDS)

    def start(self) -> PushRelay:
        self._puller = threading.Thread(target=self._pull, daemon=True)
        self._puller.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._slots:
            self._slots.notify_all()
        if self._puller is not None:
            self._puller.join(timeout=_PULL_TIMEOUT_SECONDS + 1)
        self._pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._subscriber.close()
