"""GitHub webhook signatures (``X-Hub-Signature-256``).

GitHub signs the raw request body with HMAC-SHA256 keyed by the webhook secret and sends
``sha256=<64 lower-case hex digits>`` (GitHub docs, "Validating webhook deliveries"). The check
is strict: another algorithm prefix, upper-case hex or any other spelling is refused, and the
comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
_SIGNATURE_SHAPE: Final = re.compile(r"sha256=[0-9a-f]{64}")


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub would send for ``body``; used by tests, demo and benchmarks."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def is_valid_signature(secret: bytes, body: bytes, header_value: str | None) -> bool:
    """True only if ``header_value`` is exactly GitHub's signature of ``body``."""
    if not secret or header_value is None or not _SIGNATURE_SHAPE.fullmatch(header_value):
        return False
    return hmac.compare_digest(sign(secret, body), header_value)
