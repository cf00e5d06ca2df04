"""Cloud Function ``bq_export``: Cloud Scheduler's daily call in, one day of history out."""

import flask
import functions_framework

from lzsync.services import history_export_http


@functions_framework.http
def bq_export(request: flask.Request) -> flask.Response:
    return history_export_http.handle(request)
