"""Publishing JSON messages to Pub/Sub with a bounded wait."""

from __future__ import annotations

import json
from typing import Any

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from lzsync import metrics
from lzsync.errors import UpstreamUnavailable


class JsonPublisher:
    """Publishes to one topic and waits for the server's acknowledgement."""

    def __init__(
        self, client: pubsub_v1.PublisherClient, project_id: str, topic: str, timeout_seconds: float
    ) -> None:
        self._client = client
        self._topic_path: str = client.topic_path(project_id, topic)
        self._timeout_seconds = timeout_seconds

    @property
    def topic_path(self) -> str:
        return self._topic_path

    def publish(self, message: dict[str, Any], **attributes: str) -> str:
        """Publish and return the message id; raises UpstreamUnavailable when not accepted."""
        data = json.dumps(message, separators=(",", ":"), default=str).encode()
        try:
            future = self._client.publish(self._topic_path, data, **attributes)
            message_id = str(future.result(timeout=self._timeout_seconds))
            metrics.count_published(data, attributes)
            return message_id
        except Exception as error:
            # Any failure to publish must surface as retryable: the caller answers 503 and the
            # sender retries; nothing is acknowledged that was not published.
            raise UpstreamUnavailable(
                f"publish to {self._topic_path} failed: {error}", upstream="pubsub"
            ) from error
