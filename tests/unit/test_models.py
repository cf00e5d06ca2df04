import base64

import pytest
from pydantic import ValidationError

from lzsync.errors import InvalidPayload
from lzsync.model.github import PingEvent, PushEvent
from lzsync.model.pubsub import PubsubMessage
from lzsync.model.sync_request import SyncRequest
from tests.helpers import load_format


@pytest.mark.parametrize(
    "name",
    [
        "gith_add-file-and-dir.json",
        "gith_delete-file.json",
        "gith_merge-branch-to-master.json",
        "gith_two-commits-add-file.json",
        "octokit_push_with-new-branch.json",
        "octokit_push_with-no-username-committer.json",
    ],
)
def test_real_push_payloads_parse(name):
    payload = load_format(f"github/{name}")

    push = PushEvent.model_validate(payload)

    assert push.after == payload["after"]
    repository = payload["repository"]
    expected_name = repository.get("full_name") or (
        f"{repository['owner']['name']}/{repository['name']}"
    )
    assert push.repository.full_name == expected_name
    assert len(push.commits) == len(payload["commits"])


def test_branch_creation_and_deletion_are_recognised():
    created = PushEvent.model_validate(load_format("github/octokit_push_with-new-branch.json"))
    assert created.branch == "master"
    assert created.before == "0" * 40
    assert not created.is_branch_deletion

    deleted = created.model_copy(update={"after": "0" * 40, "deleted": True})
    assert deleted.is_branch_deletion


def test_tag_pushes_have_no_branch():
    payload = load_format("github/octokit_push_with-new-branch.json") | {"ref": "refs/tags/v1"}
    assert PushEvent.model_validate(payload).branch is None


def test_a_push_with_a_malformed_sha_is_rejected():
    payload = load_format("github/gith_delete-file.json") | {"after": "not-a-sha"}
    with pytest.raises(ValidationError, match="after"):
        PushEvent.model_validate(payload)


def test_the_actor_prefers_the_sender_login():
    push = PushEvent.model_validate(load_format("github/octokit_push_with-new-branch.json"))
    assert push.actor == "Codertocat"


def test_ping_payload_parses():
    ping = PingEvent.model_validate(load_format("github/octokit_ping.json"))
    assert ping.hook_id == 109948940


def test_pubsub_push_envelope_decodes():
    envelope = load_format("pubsub/gce_binary_MessagePublishedData-complex.json")

    message = PubsubMessage.from_event_data(envelope)

    assert message.message_id == "message-id"
    assert message.data == b"test message 3"
    assert message.attributes == {"attr1": "attr1-value"}
    assert message.subscription == "projects/test-project/subscriptions/my-subscription"


def test_pubsub_message_id_in_snake_case_is_accepted():
    envelope = load_format("pubsub/gce_MessagePublishedData-text.json")
    envelope["message"]["message_id"] = envelope["message"].pop("messageId")

    assert PubsubMessage.from_event_data(envelope).message_id == "message-id"


def test_non_utf8_data_is_kept_as_bytes():
    data = b"\xff\xfe\x00binary"
    envelope = {"message": {"messageId": "1", "data": base64.b64encode(data).decode()}}
    assert PubsubMessage.from_event_data(envelope).data == data


@pytest.mark.parametrize(
    ("event_data", "field"),
    [
        ({}, "message"),
        ({"message": "text"}, "message"),
        ({"message": {"data": "aGk="}}, "message.messageId"),
        ({"message": {"messageId": "1", "data": "%%%"}}, "message.data"),
        ({"message": {"messageId": "1", "attributes": ["x"]}}, "message.attributes"),
    ],
)
def test_malformed_pubsub_events_name_the_bad_field(event_data, field):
    with pytest.raises(InvalidPayload) as raised:
        PubsubMessage.from_event_data(event_data)
    assert raised.value.field == field


def test_sync_request_round_trips_as_json():
    request = SyncRequest(trigger="webhook", repo="a/b", after="a" * 40, delivery="d")
    assert SyncRequest.model_validate_json(request.model_dump_json()) == request
