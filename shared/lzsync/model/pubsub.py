"""A Pub/Sub message as a function receives it.

Push deliveries and Eventarc turn a message into a ``google.cloud.pubsub.topic.v1.messagePublished``
CloudEvent whose data is ``{"message": {...}, "subscription": ...}`` (google-cloudevents,
MessagePublishedData). The message may spell its id ``messageId`` or ``message_id``; ``data`` is
base64 and need not be UTF-8.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from lzsync.errors import InvalidPayload


class PubsubMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: str
    data: bytes
    attributes: Mapping[str, str] = {}
    publish_time: str | None = None
    subscription: str | None = None

    @classmethod
    def from_event_data(cls, event_data: Any) -> PubsubMessage:
        """Parse a messagePublished CloudEvent's ``data``; raises InvalidPayload if malformed."""
        if not isinstance(event_data, Mapping) or not isinstance(
            event_data.get("message"), Mapping
        ):
            raise InvalidPayload("event data has no 'message' object", field="message")
        message = event_data["message"]
        message_id = message.get("messageId") or message.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise InvalidPayload("message has no messageId", field="message.messageId")
        encoded = message.get("data") or ""
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, TypeError, ValueError) as error:
            raise InvalidPayload("message data is not base64", field="message.data") from error
        attributes = message.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise InvalidPayload("message attributes are not an object", field="message.attributes")
        texts = {str(key): str(value) for key, value in attributes.items()}
        if not all(_is_unicode(text) for text in (message_id, *texts, *texts.values())):
            # Pub/Sub itself only carries valid UTF-8 here: this is a forged or broken push.
            raise InvalidPayload(
                "message id or attributes are not valid Unicode", field="message.attributes"
            )
        return cls(
            message_id=message_id,
            data=data,
            attributes=texts,
            publish_time=_text_or_none(message.get("publishTime") or message.get("publish_time")),
            subscription=_text_or_none(event_data.get("subscription")),
        )


def _is_unicode(text: str) -> bool:
    """False for a string holding a lone surrogate (JSON can spell one; Firestore refuses it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_or_none(value: Any) -> str | None:
    """Metadata that decides nothing (publish time, subscription) is kept only when it is
    text: a wrong type there is no reason to refuse the message."""
    return value if isinstance(value, str) and _is_unicode(value) else None
