"""The security rules, enforced by the Firestore emulator on real REST requests.

Rules are per project in the emulator, so each rules variant gets a project of its own and the
session project every other test writes to keeps its open rules. Data is seeded with the Python
server client, which sends ``Bearer owner`` and bypasses rules, as lzsync's functions do.

The emulator accepts any unsigned ID token and does not check ``iss``, ``aud``, ``exp`` or the
signature (real Firestore does): these tests cover what the rules decide from the claims, not
token verification.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
import requests
from google.cloud import firestore

from lzsync.collection_names import PORTAL_COLLECTIONS, Collections
from lzsync.devtools.emulators import EmulatorSuite
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.rules import RULES_FILE, load_into_emulator, render_rules
from tests.conftest import PROJECT_ID

RULES_PROJECT: Final = "lzsync-rules-test"  # claim `portal` + domain example.com
COMMITTED_PROJECT: Final = "lzsync-rules-committed"  # firestore.rules exactly as committed
PREFIXED_PROJECT: Final = "lzsync-rules-prefixed"  # claim `lzPortal`, prefix `staging_`
DOMAIN: Final = "example.com"
PREFIX: Final = "staging_"
SEED_ID: Final = "seed"
SUBCOLLECTION: Final = "notes"

INTERNAL_COLLECTIONS: Final = tuple(
    getattr(Collections(), name)
    for name in dir(Collections)
    if isinstance(getattr(Collections, name), property)
    and str(getattr(Collections(), name)).startswith("_")
)
UNKNOWN_COLLECTIONS: Final = ("users", "secrets")
CLOSED_COLLECTIONS: Final = INTERNAL_COLLECTIONS + UNKNOWN_COLLECTIONS

# Claims of a Firebase Auth user beyond `sub`; None is no token at all.
PORTAL_USERS: Final[dict[str, dict[str, Any]]] = {
    "claim": {"portal": True},
    "verified_email": {"email": "ann@example.com", "email_verified": True},
    "email_in_upper_case": {"email": "Ann.Lee@Example.COM", "email_verified": True},
}
REFUSED_USERS: Final[dict[str, dict[str, Any] | None]] = {
    "anonymous": None,
    "signed_in_without_claim": {},
    "claim_false": {"portal": False},
    "claim_as_string": {"portal": "true"},
    "other_claim": {"admin": True},
    "wrong_domain": {"email": "ann@example.org", "email_verified": True},
    "lookalike_domain": {"email": "ann@example.com.attacker.test", "email_verified": True},
    "domain_as_suffix": {"email": "ann@notexample.com", "email_verified": True},
    "subdomain": {"email": "ann@eu.example.com", "email_verified": True},
    "unverified_email": {"email": "ann@example.com", "email_verified": False},
    "email_without_verified_claim": {"email": "ann@example.com"},
}
WRITE_KINDS: Final = ("create", "set", "update", "delete", "commit", "batch_write")
# Kinds that would change or remove the seeded document if they got through.
_SEED_WRITES: Final = frozenset({"update", "delete", "commit", "batch_write"})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def id_token(project: str, claims: dict[str, Any], uid: str = "user-1") -> str:
    """An unsigned (``alg: none``) token shaped like a Firebase Auth ID token for ``project``."""
    now = int(time.time())
    payload = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "sub": uid,
        "user_id": uid,
        "firebase": {"sign_in_provider": "password", "identities": {}},
        **claims,
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."


@dataclass
class Rest:
    """The Firestore REST API of one emulator project, as a given user (or anonymous)."""

    session: requests.Session
    host: str
    project: str
    claims: dict[str, Any] | None = None
    owner: bool = False

    def as_user(self, claims: dict[str, Any] | None) -> Rest:
        return Rest(self.session, self.host, self.project, claims)

    @property
    def root(self) -> str:
        return f"projects/{self.project}/databases/(default)/documents"

    def _url(self, path: str = "") -> str:
        return f"http://{self.host}/v1/{self.root}{'/' + path if path else ''}"

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = {}
        if self.owner:
            headers["Authorization"] = "Bearer owner"
        elif self.claims is not None:
            headers["Authorization"] = f"Bearer {id_token(self.project, self.claims)}"
        return self.session.request(method, url, headers=headers, timeout=10, **kwargs)

    def get(self, path: str) -> requests.Response:
        return self._request("GET", self._url(path))

    def query(self, collection: str, parent: str = "", **from_: Any) -> requests.Response:
        body = {"structuredQuery": {"from": [{"collectionId": collection, **from_}]}}
        return self._request("POST", self._url(parent) + ":runQuery", json=body)

    def count(self, collection: str) -> requests.Response:
        body = {
            "structuredAggregationQuery": {
                "structuredQuery": {"from": [{"collectionId": collection}]},
                "aggregations": [{"alias": "n", "count": {}}],
            }
        }
        return self._request("POST", self._url() + ":runAggregationQuery", json=body)

    def write(self, kind: str, collection: str) -> requests.Response:
        fields = {"fields": {"note": {"stringValue": "from a client"}}}
        seeded = f"{self.root}/{collection}/{SEED_ID}"
        if kind == "create":
            url = self._url(collection) + "?documentId=client-new"
            return self._request("POST", url, json=fields)
        if kind == "set":  # an upsert of a new document, as a client SDK's set() sends it
            return self._request("PATCH", self._url(f"{collection}/client-set"), json=fields)
        if kind == "update":
            url = self._url(f"{collection}/{SEED_ID}")
            params = {"updateMask.fieldPaths": "note", "currentDocument.exists": "true"}
            return self._request("PATCH", url, params=params, json=fields)
        if kind == "delete":
            return self._request("DELETE", self._url(f"{collection}/{SEED_ID}"))
        writes = [
            {"update": {"name": f"{self.root}/{collection}/client-batch", **fields}},
            {"delete": seeded},
        ]
        verb = ":commit" if kind == "commit" else ":batchWrite"
        return self._request("POST", self._url() + verb, json={"writes": writes})


def _seed(project: str, collections: tuple[str, ...]) -> None:
    client = firestore.Client(project=project)
    batch = client.batch()
    for collection in collections:
        ref = client.collection(collection).document(SEED_ID)
        batch.set(ref, {"collection": collection, "note": "seeded"})
        batch.set(ref.collection(SUBCOLLECTION).document("n1"), {"note": "nested"})
    batch.commit()


def _reset(session: requests.Session, host: str, project: str) -> None:
    url = f"http://{host}/emulator/v1/projects/{project}/databases/(default)/documents"
    session.delete(url, timeout=30).raise_for_status()


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # loopback only, whatever proxy the environment names
    yield session
    session.close()


@pytest.fixture(scope="module")
def deployments(emulators: EmulatorSuite, http: requests.Session) -> Iterator[dict[str, Rest]]:
    """Three rules variants loaded and seeded once: every test here only reads, or tries to
    write and must be refused, so the seed stays as it is."""
    assert emulators.firestore is not None
    host = emulators.firestore.host
    variants = {
        RULES_PROJECT: (render_rules(email_domain=DOMAIN), ""),
        COMMITTED_PROJECT: ((project_root() / RULES_FILE).read_text(), ""),
        PREFIXED_PROJECT: (render_rules(claim="lzPortal", prefix=PREFIX), PREFIX),
    }
    for project, (rules, prefix) in variants.items():
        _reset(http, host, project)
        load_into_emulator(host, project, rules)
        names = [f"{prefix}{name}" for name in (*PORTAL_COLLECTIONS, *CLOSED_COLLECTIONS)]
        _seed(project, tuple(names))
    yield {project: Rest(http, host, project) for project in variants}
    for project in variants:
        _reset(http, host, project)


@pytest.fixture(scope="module")
def api(deployments: dict[str, Rest]) -> Rest:
    return deployments[RULES_PROJECT]


def _names(response: requests.Response) -> list[str]:
    """Ids of the documents a runQuery answer holds (its rows without one carry only times)."""
    rows = response.json()
    return [row["document"]["name"].rsplit("/", 1)[1] for row in rows if "document" in row]


def _assert_refused(response: requests.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def _still_seeded(api: Rest, collection: str) -> bool:
    owner = Rest(api.session, api.host, api.project, owner=True)
    seeded = owner.get(f"{collection}/{SEED_ID}")
    fields = seeded.json().get("fields", {})
    return seeded.status_code == 200 and fields["note"]["stringValue"] == "seeded"


# --- what Portal users may read -----------------------------------------------------------------
@pytest.mark.parametrize("collection", PORTAL_COLLECTIONS)
@pytest.mark.parametrize("user", PORTAL_USERS)
def test_portal_user_gets_and_lists_a_portal_collection(api, user, collection):
    portal = api.as_user(PORTAL_USERS[user])

    got = portal.get(f"{collection}/{SEED_ID}")
    listed = portal.query(collection)

    assert got.status_code == 200, got.text
    assert got.json()["fields"]["collection"]["stringValue"] == collection
    assert listed.status_code == 200, listed.text
    assert _names(listed) == [SEED_ID]


def test_portal_user_gets_not_found_for_a_missing_portal_document(api):
    assert api.as_user(PORTAL_USERS["claim"]).get("documents/absent").status_code == 404


# --- what they may not read ---------------------------------------------------------------------
@pytest.mark.parametrize("collection", CLOSED_COLLECTIONS)
@pytest.mark.parametrize("user", ["claim", "verified_email"])
def test_portal_user_cannot_read_internal_or_unknown_collections(api, user, collection):
    portal = api.as_user(PORTAL_USERS[user])

    _assert_refused(portal.get(f"{collection}/{SEED_ID}"))
    _assert_refused(portal.get(collection))  # ListDocuments
    _assert_refused(portal.query(collection))
    _assert_refused(portal.count(collection))


@pytest.mark.parametrize("collection", PORTAL_COLLECTIONS)
def test_subcollections_of_portal_collections_are_closed(api, collection):
    portal = api.as_user(PORTAL_USERS["claim"])

    _assert_refused(portal.get(f"{collection}/{SEED_ID}/{SUBCOLLECTION}/n1"))
    _assert_refused(portal.query(SUBCOLLECTION, parent=f"{collection}/{SEED_ID}"))


@pytest.mark.parametrize("collection", [PORTAL_COLLECTIONS[0], SUBCOLLECTION])
def test_collection_group_queries_are_refused(api, collection):
    portal = api.as_user(PORTAL_USERS["claim"])
    _assert_refused(portal.query(collection, allDescendants=True))


def test_portal_user_cannot_list_collection_ids(api):
    response = api.as_user(PORTAL_USERS["claim"])._request(
        "POST", api._url() + ":listCollectionIds", json={}
    )
    _assert_refused(response)


@pytest.mark.parametrize("collection", PORTAL_COLLECTIONS)
@pytest.mark.parametrize("user", REFUSED_USERS)
def test_users_without_the_claim_or_domain_read_nothing(api, user, collection):
    outsider = api.as_user(REFUSED_USERS[user])

    _assert_refused(outsider.get(f"{collection}/{SEED_ID}"))
    _assert_refused(outsider.query(collection))


# --- nobody writes from a client ----------------------------------------------------------------
def _assert_write_refused(api: Rest, kind: str, collection: str) -> None:
    _assert_refused(api.write(kind, collection))
    if kind in _SEED_WRITES:
        assert _still_seeded(api, collection)


@pytest.mark.parametrize("kind", WRITE_KINDS)
@pytest.mark.parametrize("collection", PORTAL_COLLECTIONS + CLOSED_COLLECTIONS)
def test_portal_user_writes_nothing_anywhere(api, collection, kind):
    _assert_write_refused(api.as_user(PORTAL_USERS["claim"]), kind, collection)


@pytest.mark.parametrize("kind", WRITE_KINDS)
@pytest.mark.parametrize("collection", PORTAL_COLLECTIONS)
@pytest.mark.parametrize("user", ["verified_email", "anonymous"])
def test_email_users_and_anonymous_write_nothing_either(api, user, collection, kind):
    claims = None if user == "anonymous" else PORTAL_USERS[user]
    _assert_write_refused(api.as_user(claims), kind, collection)


# --- the rendered variants ----------------------------------------------------------------------
def test_committed_rules_admit_the_default_claim_and_no_email_domain(deployments):
    api = deployments[COMMITTED_PROJECT]

    assert api.as_user({"portal": True}).get(f"documents/{SEED_ID}").status_code == 200
    _assert_refused(api.as_user(PORTAL_USERS["verified_email"]).get(f"documents/{SEED_ID}"))
    _assert_refused(api.as_user({"portal": True}).get(f"_locks/{SEED_ID}"))


@pytest.mark.parametrize("collection", PORTAL_COLLECTIONS)
def test_prefixed_rules_open_the_prefixed_portal_collections_only(deployments, collection):
    api = deployments[PREFIXED_PROJECT]
    portal = api.as_user({"lzPortal": True})

    assert portal.get(f"{PREFIX}{collection}/{SEED_ID}").status_code == 200
    assert _names(portal.query(f"{PREFIX}{collection}")) == [SEED_ID]
    _assert_refused(portal.get(f"{collection}/{SEED_ID}"))
    _assert_refused(api.as_user({"portal": True}).get(f"{PREFIX}{collection}/{SEED_ID}"))


@pytest.mark.parametrize("collection", INTERNAL_COLLECTIONS)
def test_prefixed_rules_keep_prefixed_internal_collections_closed(deployments, collection):
    portal = deployments[PREFIXED_PROJECT].as_user({"lzPortal": True})
    _assert_refused(portal.get(f"{PREFIX}{collection}/{SEED_ID}"))
    _assert_refused(portal.query(f"{PREFIX}{collection}"))


# --- the other tests' project is untouched ------------------------------------------------------
def test_loading_rules_leaves_the_session_project_open(deployments, http):
    """The rest of the suite (and its REST/listener clients) shares this emulator."""
    api = deployments[RULES_PROJECT]
    session_project = Rest(http, api.host, PROJECT_ID)

    assert session_project.get("documents/absent").status_code == 404
    assert session_project.query("_locks").status_code == 200
