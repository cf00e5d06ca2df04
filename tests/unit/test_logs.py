import io
import json
import logging

import pytest

from lzsync.logs import (
    LABELS_KEY,
    TRACE_KEY,
    audit,
    bound,
    json_handler,
    register_secret,
    trace_field,
)


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = json_handler(stream)
    logger = logging.getLogger("lzsync")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_lines_carry_cloud_loggings_keys_and_bound_context(log_lines):
    with bound(function="webhook", delivery="d-1", **trace_field("proj", "abc123/1;o=1")):
        logging.getLogger("lzsync.webhook").warning("refused", extra={"status": 401})

    [line] = log_lines()
    assert line["severity"] == "WARNING"
    assert line["message"] == "refused"
    assert line["logger"] == "lzsync.webhook"
    assert line[TRACE_KEY] == "projects/proj/traces/abc123"
    assert (line["function"], line["delivery"], line["status"]) == ("webhook", "d-1", 401)
    assert "time" in line


def test_context_ends_with_its_block(log_lines):
    with bound(repo="a/b"):
        pass
    logging.getLogger("lzsync.git").info("outside")
    assert "repo" not in log_lines()[0]


def test_audit_records_are_labelled_for_log_based_metrics(log_lines):
    audit("git_sync", outcome="synced", repo="a/b", written=3)

    [line] = log_lines()
    assert line[LABELS_KEY] == {"lzsync_audit": "true"}
    assert (line["action"], line["outcome"], line["written"]) == ("git_sync", "synced", 3)


def test_registered_secrets_never_reach_a_line(log_lines):
    register_secret("s3cr3t-value-for-test")
    logging.getLogger("lzsync.git").error(
        "fetch failed for https://x:s3cr3t-value-for-test@host",
        extra={"token": "s3cr3t-value-for-test"},
    )
    text = json.dumps(log_lines())
    assert "s3cr3t-value-for-test" not in text
    assert "[redacted]" in text


def test_malformed_trace_header_is_ignored():
    assert trace_field("proj", "../../etc") == {}
    assert trace_field("proj", None) == {}
