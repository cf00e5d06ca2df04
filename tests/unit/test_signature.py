from lzsync.logic.signature import is_valid_signature, sign
from tests.helpers import load_format

VECTOR = load_format("github/hmac_test_vector.json")
SECRET = VECTOR["secret"].encode()
PAYLOAD = VECTOR["payload"].encode()


def test_signature_matches_githubs_published_test_vector():
    assert sign(SECRET, PAYLOAD) == VECTOR["expected_header_X-Hub-Signature-256"]
    assert is_valid_signature(SECRET, PAYLOAD, VECTOR["expected_header_X-Hub-Signature-256"])


def test_signature_of_a_different_body_is_refused():
    assert not is_valid_signature(SECRET, PAYLOAD + b" ", sign(SECRET, PAYLOAD))


def test_signature_with_a_different_secret_is_refused():
    assert not is_valid_signature(b"another secret", PAYLOAD, sign(SECRET, PAYLOAD))


def test_missing_signature_is_refused():
    assert not is_valid_signature(SECRET, PAYLOAD, None)


def test_sha1_signature_is_refused_even_when_correct():
    assert not is_valid_signature(
        SECRET, PAYLOAD, VECTOR["legacy_sha1_X-Hub-Signature_computed_locally_not_published"]
    )


def test_upper_case_hex_is_refused():
    hex_part = VECTOR["expected_hex"].upper()
    assert not is_valid_signature(SECRET, PAYLOAD, "sha256=" + hex_part)


def test_wrong_prefix_or_padding_is_refused():
    good = VECTOR["expected_header_X-Hub-Signature-256"]
    for tampered in ("SHA256=" + VECTOR["expected_hex"], " " + good, good + "\n", good[:-1]):
        assert not is_valid_signature(SECRET, PAYLOAD, tampered)


def test_empty_secret_never_validates():
    assert not is_valid_signature(b"", PAYLOAD, sign(b"", PAYLOAD))
