"""Render ``firestore.rules`` and ``firestore.indexes.json`` for one deployment, and load rules
into a local emulator.

Rules files have no variables, so the deployment-specific part (Portal claim, email domain,
collection prefix) is one marked block at the top of the repository's ``firestore.rules``; this
module regenerates that block and keeps the rest of the file as written. The committed files are
the renderings with the default settings, which a unit test holds them to.

Usage: ``python -m lzsync.devtools.rules --rules-out build/firestore.rules
--indexes-out build/firestore.indexes.json`` (values from ``LZSYNC_*`` / ``.env``, flags win).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any, Final

from lzsync.collection_names import Collections
from lzsync.devtools.landing_zone import project_root
from lzsync.errors import ConfigError
from lzsync.settings import Settings

RULES_FILE: Final = "firestore.rules"
INDEXES_FILE: Final = "firestore.indexes.json"
BEGIN_MARK: Final = "// ==== lzsync:config begin"
END_MARK: Final = "// ==== lzsync:config end"
_INDENT: Final = "    "
_MARK_WIDTH: Final = 88  # marker lines, padded with "=" to this width before indenting
# Same shapes as the settings accept; checked again here because render_rules also takes
# explicit arguments, and whatever passes is pasted into rules source.
_CLAIM_PATTERN: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DOMAIN_PATTERN: Final = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
)
_PREFIX_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]*$")
# Claims Firebase Auth sets itself. A Portal claim named like one of them would grant access to
# far more users than meant (`email_verified`: every verified account), so it is refused.
_TOKEN_CLAIMS: Final = frozenset(
    {
        "aud", "auth_time", "email", "email_verified", "exp", "firebase", "iat", "iss",
        "name", "phone_number", "picture", "sub", "uid", "user_id",
    }
)  # fmt: skip
_DIRECT: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_LOAD_TIMEOUT_SECONDS: Final = 30


def _check(claim: str, email_domain: str | None, prefix: str) -> None:
    if not _CLAIM_PATTERN.match(claim) or claim in _TOKEN_CLAIMS:
        raise ConfigError(
            f"portal claim {claim!r} must be an identifier and not a standard token claim",
            setting="LZSYNC_PORTAL_CLAIM",
        )
    if email_domain is not None and not _DOMAIN_PATTERN.match(email_domain):
        raise ConfigError(
            f"portal email domain {email_domain!r} must be a lower-case DNS name",
            setting="LZSYNC_PORTAL_EMAIL_DOMAIN",
        )
    if not _PREFIX_PATTERN.match(prefix):
        raise ConfigError(
            f"collection prefix {prefix!r} must be letters, digits, '_' or '-'",
            setting="LZSYNC_COLLECTION_PREFIX",
        )


def _email_function(email_domain: str | None) -> list[str]:
    if email_domain is None:
        return [
            "// LZSYNC_PORTAL_EMAIL_DOMAIN is not set: no email domain grants access.",
            "function hasPortalEmail() {",
            "  return false;",
            "}",
        ]
    # Rules regexes are RE2 and `matches` must match the whole string, so only the dots need
    # escaping (the domain passed _DOMAIN_PATTERN) and subdomains do not match.
    pattern = ".*@" + email_domain.replace(".", "[.]")
    return [
        f"// A verified email in {email_domain} (LZSYNC_PORTAL_EMAIL_DOMAIN), in any letter case.",
        "function hasPortalEmail() {",
        "  return request.auth.token.get('email_verified', false) == true",
        f"    && request.auth.token.get('email', '').lower().matches('{pattern}');",
        "}",
    ]


def config_block(claim: str, email_domain: str | None, prefix: str) -> str:
    """The marked block of ``firestore.rules`` for these settings, markers included."""
    _check(claim, email_domain, prefix)
    names = Collections(prefix).portal
    lines = [
        f"{BEGIN_MARK} ".ljust(_MARK_WIDTH, "="),
        "// Rendered by `python -m lzsync.devtools.rules` from LZSYNC_PORTAL_CLAIM,",
        "// LZSYNC_PORTAL_EMAIL_DOMAIN and LZSYNC_COLLECTION_PREFIX: change those and re-render",
        "// rather than editing this block, which the renderer replaces as a whole.",
        "",
        '// The custom claim LZSYNC_PORTAL_CLAIM is the boolean true (a string "true" is not).',
        "function hasPortalClaim() {",
        f"  return request.auth.token.get('{claim}', false) == true;",
        "}",
        "",
        *_email_function(email_domain),
        "",
        "// The collections the Portal reads, with LZSYNC_COLLECTION_PREFIX applied.",
        "function isPortalCollection(collection) {",
        "  return collection in [",
        ",\n".join(f"    '{name}'" for name in names),
        "  ];",
        "}",
        f"{END_MARK} ".ljust(_MARK_WIDTH, "="),
    ]
    text = "\n".join(lines)
    return "\n".join(_INDENT + line if line else line for line in text.split("\n"))


def render_rules(
    *,
    claim: str = "portal",
    email_domain: str | None = None,
    prefix: str = "",
    template: str | None = None,
) -> str:
    """``template`` (default: the repository's ``firestore.rules``) with its marked block
    rendered for this claim, email domain and collection prefix."""
    if template is None:
        template = (project_root() / RULES_FILE).read_text()
    begin = template.find(_INDENT + BEGIN_MARK)
    end_mark = template.find(_INDENT + END_MARK)
    if begin < 0 or end_mark < begin:
        raise ValueError(f"{RULES_FILE} lacks the lzsync:config begin/end markers")
    end = template.index("\n", end_mark)
    return template[:begin] + config_block(claim, email_domain, prefix) + template[end:]


def render_indexes(prefix: str = "") -> str:
    """The composite indexes lzsync's and the Portal's queries need, as
    ``firestore.indexes.json`` (the Firebase CLI's format).

    Only one: the Portal's activity feed (``layer ==`` and ``time`` descending, see
    :mod:`lzsync.devtools.feed_player`). Every other query in lzsync filters or orders on a
    single field, which Firestore's automatic single-field indexes serve. No field overrides:
    TTL policies are set with ``gcloud firestore fields ttls update`` (README, deploying).
    """
    _check("portal", None, prefix)
    document: dict[str, Any] = {
        "indexes": [
            {
                "collectionGroup": Collections(prefix).activity,
                "queryScope": "COLLECTION",
                "fields": [
                    {"fieldPath": "layer", "order": "ASCENDING"},
                    {"fieldPath": "time", "order": "DESCENDING"},
                ],
            }
        ],
        "fieldOverrides": [],
    }
    return json.dumps(document, indent=2) + "\n"


def render_for(settings: Settings) -> str:
    """The rules of the deployment ``settings`` describe."""
    return render_rules(
        claim=settings.portal_claim,
        email_domain=settings.portal_email_domain,
        prefix=settings.collection_prefix,
    )


def load_into_emulator(host: str, project_id: str, rules: str) -> None:
    """Make ``rules`` the Firestore emulator's rules for ``project_id`` (its own endpoint;
    rules are per project there). A rules compile error surfaces as ``HTTPError`` 400."""
    body = {"rules": {"files": [{"name": RULES_FILE, "content": rules}]}}
    request = urllib.request.Request(
        f"http://{host}/emulator/v1/projects/{project_id}:securityRules",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with _DIRECT.open(request, timeout=_LOAD_TIMEOUT_SECONDS):
        pass


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m lzsync.devtools.rules", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--claim", default=defaults.portal_claim)
    parser.add_argument("--email-domain", default=defaults.portal_email_domain)
    parser.add_argument("--prefix", default=defaults.collection_prefix)
    parser.add_argument("--rules-out", type=Path, help="write the rules here (default: stdout)")
    parser.add_argument("--indexes-out", type=Path, help="also write the indexes file here")
    args = parser.parse_args(argv)
    try:
        rules = render_rules(claim=args.claim, email_domain=args.email_domain, prefix=args.prefix)
        indexes = render_indexes(args.prefix)
    except ConfigError as error:
        parser.error(f"{error.setting}: {error}")
    if args.rules_out is None:
        sys.stdout.write(rules)
    else:
        args.rules_out.write_text(rules)
    if args.indexes_out is not None:
        args.indexes_out.write_text(indexes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
