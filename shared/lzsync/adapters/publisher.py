"""Publishing JSON messages to Pub/Sub with a bounded wait."""

from __future__ import annotations

import json
from typing import Any, Final

from google.api_core import exceptions as google_errors
from google.api_core import retry as retries
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from lzsync import metrics
from lzsync.errors import UpstreamUnavailable

# What the client library retries a publish on (its own default, which keeps retrying for 600 s).
_RETRIED: Final = retries.if_exception_type(
    google_errors.Aborted,
    google_errors.Cancelled,
    google_errors.DeadlineExceeded,
    google_errors.InternalServerError,
    google_errors.ResourceExhausted,
    google_errors.ServiceUnavailable,
    google_errors.Unknown,
)


class JsonPublisher:
    """Publishes to one topic and waits for the server's acknowledgement."""

    def __init__(
        self, client: pubsub_v1.PublisherClient, project_id: str, topic: str, timeout_seconds: float
    ) -> None:
        self._client = client
        self._topic_path: str = client.topic_path(project_id, topic)
        self._timeout_seconds = timeout_seconds
        # The library retries a publish in the background for up to 600 s, long after the
        # caller stopped waiting and answered 503: the sender's retry then published the
        # request again (twice in the Pub/Sub outage test). Giving up when the caller does
        # keeps "503" meaning "not published"; only a reply lost in flight can still land.
        self._retry = retries.Retry(
            predicate=_RETRIED, initial=0.1, multiplier=4, timeout=timeout_seconds
        )

    @property
    def topic_path(self) -> str:
        return self._topic_path

    def publish(self, message: dict[str, Any], **attributes: str) -> str:
        """Publish and return the message id; raises UpstreamUnavailable when not accepted."""
        data = json.dumps(message, separators=(",", ":"), default=str).encode()
        try:
            future = self._client.publish(
                self._topic_path,
                data,
                retry=self._retry,
                timeout=self._timeout_seconds,
                **attributes,
            )
            message_id = str(future.result(timeout=self._timeout_seconds))
            metrics.count_published(data, attributes)
            return message_id
        except Exception as error:
            # Any failure to publish must surface as retryable: the caller answers 503 and the
            # sender retries; nothing is acknowledged that was not published.
            raise UpstreamUnavailable(
                f"publish to {self._topic_path} failed: {error!r}", upstream="pubsub"
            ) from error
