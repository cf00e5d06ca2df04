"""Deliver a pull subscription's messages to a function the way a push subscription does.

The Pub/Sub emulator pushes one message at a time (~60 ms each on this machine), far below what
Pub/Sub itself does against Cloud Run, which runs many deliveries concurrently. For load tests
and the live demo, this relay pulls with streaming pull and POSTs each message as a push
envelope (``{"message": {...}, "subscription": ...}``) with up to ``concurrency`` in flight:
2xx acknowledges, anything else nacks, so redelivery and the subscription's dead-letter policy
behave as with push.
"""

from __future__ import annotations

import base64
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from google.cloud import pubsub_v1  # type: ignore[attr-defined]
from google.cloud.pubsub_v1.subscriber.scheduler import ThreadScheduler


class PushRelay:
    def __init__(self, subscription_path: str, endpoint: str, concurrency: int = 32) -> None:
        self._subscription = subscription_path
        self._endpoint = endpoint
        self._concurrency = concurrency
        self._local = threading.local()
        self._subscriber = pubsub_v1.SubscriberClient()
        self._future: Any = None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # loopback only
        return session

    def _deliver(self, message: Any) -> None:
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
        except requests.RequestException:
            message.nack()
            return
        if 200 <= response.status_code < 300:
            message.ack()
        else:
            message.nack()

    def start(self) -> PushRelay:
        flow = pubsub_v1.types.FlowControl(max_messages=self._concurrency)
        scheduler = ThreadScheduler(ThreadPoolExecutor(max_workers=self._concurrency))
        self._future = self._subscriber.subscribe(
            self._subscription, callback=self._deliver, flow_control=flow, scheduler=scheduler
        )
        return self

    def stop(self) -> None:
        if self._future is not None:
            self._future.cancel()
            # A cancelled streaming pull ends with an error by design.
            with contextlib.suppress(Exception):
                self._future.result(timeout=10)
        self._subscriber.close()
