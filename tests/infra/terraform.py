"""The Terraform module in ``infra/`` as data, and the rules it must keep.

Each ``problems_*`` function reads a parsed module and returns what breaks one rule (empty:
the rule holds). The tests run them on the real module and on copies broken on purpose, so
every rule is shown to catch its breakage. No Terraform binary and no cloud: python-hcl2
parses the files; references stay text (``${google_service_account.webhook.email}``).
"""

from __future__ import annotations

import ast
import json
import re
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import hcl2
from pydantic import SecretStr

from lzsync.collection_names import Collections
from lzsync.settings import Settings

ROOT: Final = Path(__file__).resolve().parents[2]
INFRA: Final = ROOT / "infra"
FUNCTION_MODULE_SOURCE: Final = "./modules/function"
PRIMITIVE_ROLES: Final = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
PUBLIC_MEMBERS: Final = ("allUsers", "allAuthenticatedUsers")
# Variables that are not lzsync settings but that the runtime reads: functions-framework's
# gunicorn takes its thread count from THREADS.
PLATFORM_ENVIRONMENT: Final = frozenset({"THREADS"})
# Collections whose documents carry ``expires_at`` for a TTL policy (README "Firestore schema").
TTL_COLLECTIONS: Final = frozenset(
    {Collections().deliveries, Collections().activity, Collections().tombstones}
    | {Collections().doc_changes}
)

_OPTIONS: Final = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
_REFERENCE: Final = re.compile(r"^\$\{([^}]*)\}$")


@dataclass(frozen=True)
class Module:
    """One Terraform module: its files parsed, blocks by kind."""

    files: Mapping[str, Mapping[str, Any]]

    @classmethod
    def parse(cls, sources: Mapping[str, str]) -> Module:
        return cls({name: _parse_file(text) for name, text in sources.items()})

    def _blocks(self, kind: str) -> Iterator[Mapping[str, Any]]:
        for parsed in self.files.values():
            yield from parsed.get(kind, [])

    def resources(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        for block in self._blocks("resource"):
            found.update(block.get(resource_type, {}))
        return found

    def all_resources(self) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        for block in self._blocks("resource"):
            for resource_type, named in block.items():
                for name, body in named.items():
                    yield resource_type, name, body

    def modules(self) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        for block in self._blocks("module"):
            found.update(block)
        return found

    def function_modules(self) -> dict[str, Mapping[str, Any]]:
        return {
            name: body
            for name, body in self.modules().items()
            if body.get("source") == FUNCTION_MODULE_SOURCE
        }

    def variables(self) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        for block in self._blocks("variable"):
            found.update(block)
        return found

    def locals(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for block in self._blocks("locals"):
            found.update(block)
        return found


@lru_cache(maxsize=256)
def _parse_file(text: str) -> Mapping[str, Any]:
    # Parsed once per distinct text: the broken copies share all files but one.
    parsed: Mapping[str, Any] = hcl2.loads(text, serialization_options=_OPTIONS)
    return parsed


def read_sources(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(directory.glob("*.tf"))}


def reference(value: Any) -> str | None:
    """``google_service_account.webhook.email`` for ``${google_service_account.webhook.email}``;
    None for a literal or a larger expression."""
    match = _REFERENCE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def block(body: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The first nested block ``name`` of a body (blocks parse as lists of bodies)."""
    blocks = body.get(name)
    return blocks[0] if isinstance(blocks, list) and blocks else None


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere inside a parsed value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def function_name(body: Mapping[str, Any]) -> str:
    """The package (``functions/<name>``) a function module deploys, from its source_dir."""
    return str(body.get("source_dir", "")).rstrip("/").rsplit("/", 1)[-1]


def service_account_of(body: Mapping[str, Any]) -> str | None:
    ref = reference(body.get("service_account_email"))
    match = re.fullmatch(r"google_service_account\.(\w+)\.email", ref or "")
    return match.group(1) if match else None


# --- facts from the code the module deploys ---


def entry_points(name: str) -> dict[str, str]:
    """Top-level functions of ``functions/<name>/main.py`` registered with functions-framework:
    function name → ``http`` or ``cloud_event``."""
    tree = ast.parse((ROOT / "functions" / name / "main.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Attribute)
                    and isinstance(decorator.value, ast.Name)
                    and decorator.value.id == "functions_framework"
                ):
                    found[node.name] = decorator.attr
    return found


def secret_settings() -> set[str]:
    """Environment names of the settings typed as secrets."""
    return {
        f"LZSYNC_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if SecretStr in typing.get_args(field.annotation) or field.annotation is SecretStr
    }


def readme_schedules() -> dict[str, str]:
    """Scheduler job name → cron schedule, from the README's hand-written deployment."""
    text = (ROOT / "README.md").read_text()
    jobs = re.findall(
        r"gcloud scheduler jobs create \w+ (lzsync-[\w-]+)(.*?)--schedule='([^']+)'", text, re.S
    )
    return {name: schedule for name, _between, schedule in jobs}


# --- the rules ---


def problems_functions(module: Module, packages: tuple[str, ...]) -> list[str]:
    """Every packaged function is deployed once, with an entry point its main.py registers."""
    problems = []
    deployed = [function_name(body) for body in module.function_modules().values()]
    if sorted(deployed) != sorted(packages):
        problems.append(f"deployed functions {sorted(deployed)} are not the packages {packages}")
    for name, body in module.function_modules().items():
        package = function_name(body)
        if package not in packages:
            continue
        registered = entry_points(package)
        if body.get("entry_point") not in registered:
            problems.append(
                f"module.{name}: entry_point {body.get('entry_point')!r} is not one of "
                f"functions/{package}/main.py's {sorted(registered)}"
            )
    return problems


def problems_service_accounts(module: Module) -> list[str]:
    """Each function runs as its own service account, used by no other function or invoker."""
    problems = []
    accounts = module.resources("google_service_account")
    used: dict[str, str] = {}
    for name, body in module.function_modules().items():
        account = service_account_of(body)
        if account is None or account not in accounts:
            problems.append(f"module.{name}: service_account_email is not one of ours")
        elif account in used:
            problems.append(f"module.{name} shares service account {account} with {used[account]}")
        else:
            used[account] = f"module.{name}"
    for resource_type in ("google_cloud_scheduler_job", "google_pubsub_subscription"):
        for name, body in module.resources(resource_type).items():
            for text in strings(body):
                for account in re.findall(r"google_service_account\.(\w+)\.email", text):
                    if account in used:
                        problems.append(f"{resource_type}.{name} uses {used[account]}'s account")
    return problems


def problems_subscriptions(module: Module) -> list[str]:
    """Every subscription that delivers has a dead-letter policy and a retry policy; the only
    other kind is a pull subscription holding a dead-letter topic's messages."""
    problems = []
    topics = module.resources("google_pubsub_topic")
    dead_letter_topics = {
        name for name, body in topics.items() if body["name"].endswith("-dead-letter")
    }
    for name, body in module.resources("google_pubsub_subscription").items():
        topic = (reference(body.get("topic")) or "").split(".")[1:2]
        policy = block(body, "dead_letter_policy")
        if topic and topic[0] in dead_letter_topics:
            if "push_config" in body:
                problems.append(f"subscription {name} pushes dead letters somewhere")
            continue
        if policy is None or not policy.get("dead_letter_topic"):
            problems.append(f"subscription {name} has no dead-letter policy")
            continue
        target = (reference(policy["dead_letter_topic"]) or "").split(".")[1:2]
        if not target or target[0] not in dead_letter_topics or target == topic:
            problems.append(f"subscription {name} dead-letters to {policy['dead_letter_topic']}")
        if not policy.get("max_delivery_attempts"):
            problems.append(f"subscription {name} has no max_delivery_attempts")
        if block(body, "retry_policy") is None:
            problems.append(f"subscription {name} has no retry policy (immediate redelivery)")
    return problems


def _roles(module: Module) -> Iterator[tuple[str, str]]:
    for resource_type, name, body in module.all_resources():
        for key in ("role", "roles"):
            for role in strings(body.get(key, [])):
                yield f"{resource_type}.{name}", role


def problems_primitive_roles(module: Module) -> list[str]:
    return [
        f"{where} grants primitive role {role}"
        for where, role in _roles(module)
        if role in PRIMITIVE_ROLES
    ]


def problems_public_access(module: Module) -> list[str]:
    """allUsers/allAuthenticatedUsers appear once: run.invoker on the webhook's service."""
    problems = []
    for resource_type, name, body in module.all_resources():
        public = [text for text in strings(body) if any(m in text for m in PUBLIC_MEMBERS)]
        if not public:
            continue
        is_webhook_invoker = (
            resource_type == "google_cloud_run_v2_service_iam_member"
            and reference(body.get("name")) == "module.webhook.service_name"
            and body.get("role") == "roles/run.invoker"
            and body.get("member") == "allUsers"
        )
        if not is_webhook_invoker:
            problems.append(f"{resource_type}.{name} opens access to {public}")
    return problems


def problems_invokers(module: Module) -> list[str]:
    """Only the webhook admits the internet; every other function is private and called with
    OIDC: CloudEvent functions by a push subscription, HTTP ones by a Scheduler job."""
    problems = []
    for name, body in module.function_modules().items():
        kind = entry_points(function_name(body)).get(str(body.get("entry_point")))
        uri = f"${{module.{name}.uri}}"
        if name == "webhook":
            continue
        if body.get("ingress") != "ALLOW_INTERNAL_ONLY":
            problems.append(f"module.{name} is reachable from the internet")
        callers = (
            [
                block(s, "push_config")
                for s in module.resources("google_pubsub_subscription").values()
            ]
            if kind == "cloud_event"
            else [
                block(j, "http_target")
                for j in module.resources("google_cloud_scheduler_job").values()
            ]
        )
        targeting = [
            c for c in callers if c and (c.get("push_endpoint") == uri or c.get("uri") == uri)
        ]
        if not targeting:
            wanted = "push subscription" if kind == "cloud_event" else "scheduler job"
            problems.append(f"module.{name} ({kind}) has no {wanted}")
        for caller in targeting:
            token = block(caller, "oidc_token")
            if token is None or token.get("audience") != uri:
                problems.append(f"module.{name} is called without an OIDC token for its URL")
    return problems


def problems_schedules(module: Module, documented: Mapping[str, str]) -> list[str]:
    """Each Scheduler job runs on the README's schedule (by default) in UTC."""
    problems = []
    variables = module.variables()
    jobs = module.resources("google_cloud_scheduler_job")
    if sorted(body["name"] for body in jobs.values()) != sorted(documented):
        problems.append(
            f"jobs {sorted(b['name'] for b in jobs.values())} != README's {sorted(documented)}"
        )
    zone = variables.get("schedule_time_zone", {}).get("default")
    for name, body in jobs.items():
        variable = (reference(body.get("schedule")) or "").removeprefix("var.")
        default = variables.get(variable, {}).get("default")
        if default != documented.get(body["name"]):
            problems.append(
                f"job {name} runs {default!r}, README says {documented.get(body['name'])!r}"
            )
        if reference(body.get("time_zone")) != "var.schedule_time_zone" or zone != "Etc/UTC":
            problems.append(f"job {name} is not on UTC")
    reconcile = block(jobs.get("git_reconcile", {}), "pubsub_target") or {}
    data = re.fullmatch(r'\$\{base64encode\("(.*)"\)\}', str(reconcile.get("data", "")))
    message = json.loads(data.group(1).replace('\\"', '"')) if data else None
    if message != {"trigger": "schedule"}:
        problems.append(f"the git reconciliation publishes {reconcile.get('data')!r}")
    if reconcile.get("topic_name") != "${google_pubsub_topic.git_sync_requests.id}":
        problems.append("the git reconciliation does not publish to git-sync-requests")
    return problems


def problems_secrets(module: Module, submodule: Module) -> list[str]:
    """No secret value is ever in Terraform: no versions, no secret_data."""
    problems = []
    for each in (module, submodule):
        for resource_type, name, body in each.all_resources():
            if resource_type == "google_secret_manager_secret_version":
                problems.append(f"{resource_type}.{name} puts a secret value in state")
            if "secret_data" in body or "secret_data_wo" in body:
                problems.append(f"{resource_type}.{name} has secret data")
    return problems


def environment_names(module: Module, body: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Plain and secret environment variable names a function module sets."""
    local_values = module.locals()
    plain: set[str] = set()
    environment = body.get("environment", {})
    texts = [environment] if isinstance(environment, str) else []
    plain.update(environment if isinstance(environment, Mapping) else {})
    for text in texts:
        plain.update(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", text))
        for local in re.findall(r"local\.(\w+)", text):
            value = local_values.get(local)
            if isinstance(value, Mapping):
                plain.update(value)
    secret = set(body.get("secret_environment", {}))
    return plain, secret


def problems_environment(module: Module) -> list[str]:
    """Every variable a function gets is a Settings field (LZSYNC_ + name), and secrets come
    only from Secret Manager."""
    problems = []
    fields = {f"LZSYNC_{name.upper()}" for name in Settings.model_fields}
    secrets = secret_settings()
    for name, body in module.function_modules().items():
        plain, secret = environment_names(module, body)
        if not plain:
            problems.append(f"module.{name} sets no environment at all (unparsed?)")
        for variable in sorted(plain | secret):
            if variable not in fields and variable not in PLATFORM_ENVIRONMENT:
                problems.append(f"module.{name} sets {variable}, which no Settings field reads")
        for variable in sorted(plain & secrets):
            problems.append(f"module.{name} passes secret {variable} as a plain variable")
        for variable in sorted(secret - secrets):
            problems.append(f"module.{name} mounts {variable} from Secret Manager, not a secret")
    return problems


def problems_secret_access(module: Module) -> list[str]:
    """A secret is readable exactly by the functions that mount it."""
    mounts: dict[str, set[str]] = {}
    for body in module.function_modules().values():
        for value in body.get("secret_environment", {}).values():
            secret = (reference(value) or "").split(".")[1]
            mounts.setdefault(secret, set()).add(str(service_account_of(body)))
    readers: dict[str, set[str]] = {}
    for name, body in module.resources("google_secret_manager_secret_iam_member").items():
        secret = (reference(body.get("secret_id")) or "").split(".")[1]
        account = re.search(r"google_service_account\.(\w+)\.email", body.get("member", ""))
        readers.setdefault(secret, set()).add(
            account.group(1) if account else body.get("member", name)
        )
    problems = []
    for secret in sorted(
        set(mounts) | set(readers) | set(module.resources("google_secret_manager_secret"))
    ):
        if mounts.get(secret, set()) != readers.get(secret, set()):
            problems.append(
                f"secret {secret} is mounted by {sorted(mounts.get(secret, set()))} but readable "
                f"by {sorted(readers.get(secret, set()))}"
            )
    return problems


def problems_ttl(module: Module) -> list[str]:
    problems = []
    fields = module.resources("google_firestore_field")
    collections: set[str] = set()
    for name, body in fields.items():
        if block(body, "ttl_config") is None and "ttl_config" not in body:
            continue
        if body.get("field") != "expires_at":
            problems.append(f"google_firestore_field.{name} expires by {body.get('field')}")
        if reference(body.get("for_each")) == "local.ttl_collections":
            collections.update(
                re.findall(r'"([^"]+)"', str(module.locals().get("ttl_collections")))
            )
    if collections != TTL_COLLECTIONS:
        problems.append(f"TTL on {sorted(collections)}, expected {sorted(TTL_COLLECTIONS)}")
    return problems


def problems_asset_feed(module: Module, default_types: tuple[str, ...]) -> list[str]:
    problems = []
    feeds = {
        kind: module.resources(f"google_cloud_asset_{kind}_feed")
        for kind in ("organization", "folder", "project")
    }
    for kind, found in feeds.items():
        if len(found) != 1:
            problems.append(f"expected one {kind} feed, found {sorted(found)}")
        for name, body in found.items():
            destination = block(block(body, "feed_output_config") or {}, "pubsub_destination") or {}
            if body.get("content_type") != "RESOURCE":
                problems.append(f"{kind} feed {name} publishes {body.get('content_type')}")
            if destination.get("topic") != "${google_pubsub_topic.asset_changes.id}":
                problems.append(f"{kind} feed {name} does not publish to asset-changes")
            if body.get("asset_types") != "${var.asset_types}":
                problems.append(f"{kind} feed {name} does not watch var.asset_types")
    if tuple(module.variables().get("asset_types", {}).get("default", ())) != default_types:
        problems.append("asset_types' default is not the library's DEFAULT_SNAPSHOT_TYPES")
    return problems
