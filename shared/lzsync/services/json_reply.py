"""The JSON answer of the HTTP functions Cloud Scheduler calls: its status code is what
Scheduler records as the run's success or failure."""

from __future__ import annotations

from typing import Any

import flask


def json_reply(status: int, body: dict[str, Any]) -> flask.Response:
    reply = flask.jsonify(body)
    reply.status_code = status
    return reply
