"""Read a policy-library constraint (one YAML file from the landing zone's git repository) into a
:class:`~lzsync.logic.compliance.registry.Constraint`.

The shape is Config Validator's (policy-library ``docs/index.md``, "Set up a constraint"):
``kind`` names the template, ``metadata.name`` the constraint, ``spec.severity`` is ``low``,
``medium`` or ``high``, ``spec.parameters`` feeds the template and ``spec.match`` scopes it.
``spec.match`` comes in three spellings, all read here:

- ``ancestries`` / ``excludedAncestries``: the current keys;
- ``target`` / ``exclude``: the legacy keys, which config-validator still accepts (but not
  together with the current ones: that is an error there and here);
- the same legacy keys nested under ``gcp:``, as kpt-setter era bundles write them (the
  landing zone's fixture has eight of those).

Anything wrong raises :class:`InvalidConstraint` naming the file, so one bad file is reported
and skipped while the rest of the library is evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import yaml

from lzsync.logic.compliance import scope
from lzsync.logic.compliance.registry import Constraint, Scope

API_GROUP: Final = "constraints.gatekeeper.sh/"
# policy-library docs list low/medium/high and give no default; the registry contract fixes it.
DEFAULT_SEVERITY: Final = "medium"
CONSTRAINTS_DIR: Final = "policies/constraints/"
_INCLUDE_KEYS: Final = ("ancestries", "target")
_EXCLUDE_KEYS: Final = ("excludedAncestries", "exclude")
# The largest real constraint (an allowlist of a few hundred entries) has ~1,000 values.
MAX_NODES: Final = 100_000


class InvalidConstraint(ValueError):
    """A policy file that is not a readable constraint; carries the repository path."""

    def __init__(self, path: str | None, reason: str) -> None:
        super().__init__(f"{path or '<constraint>'}: {reason}")
        self.path = path
        self.reason = reason


def is_constraint_path(path: str) -> bool:
    """Constraints live in ``…/policies/constraints/``; templates and Rego live beside them."""
    return f"/{CONSTRAINTS_DIR}" in f"/{path}" and path.endswith((".yaml", ".yml"))


def parse_constraint(text: str, path: str | None = None) -> Constraint:
    """The constraint ``text`` (the file at ``path``) declares."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        raise InvalidConstraint(path, f"not valid YAML ({_first_line(error)})") from error
    except RecursionError as error:
        raise InvalidConstraint(path, "not valid YAML (nested too deeply)") from error
    if _expanded_size(documents) > MAX_NODES:
        # Aliases share one object, so loading a "billion laughs" file is cheap, but every
        # check walking its parameters would expand it: refuse it here, by name.
        raise InvalidConstraint(path, f"more than {MAX_NODES} values once aliases are expanded")
    if len(documents) != 1:
        raise InvalidConstraint(path, f"expected one YAML document, found {len(documents)}")
    document = documents[0]
    if not isinstance(document, Mapping):
        raise InvalidConstraint(path, "not a mapping")
    api_version = document.get("apiVersion")
    if not isinstance(api_version, str) or not api_version.startswith(API_GROUP):
        raise InvalidConstraint(path, f"not a constraint (apiVersion {api_version!r})")
    kind = document.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InvalidConstraint(path, "no kind")
    name = _mapping(document, "metadata", path).get("name")
    if not isinstance(name, str) or not name:
        raise InvalidConstraint(path, "no metadata.name")
    spec = _mapping(document, "spec", path)
    severity = spec.get("severity", DEFAULT_SEVERITY)
    if not isinstance(severity, str) or not severity:
        raise InvalidConstraint(path, f"spec.severity must be a string, not {severity!r}")
    return Constraint(
        name=name,
        kind=kind,
        severity=severity.lower(),
        parameters=dict(_mapping(spec, "parameters", path)),
        scope=_scope(_mapping(spec, "match", path), path),
        source=path,
    )


def _scope(match: Mapping[str, Any], path: str | None) -> Scope:
    nested = _mapping(match, "gcp", path)
    include = _patterns(match, _INCLUDE_KEYS, path)
    if include is None:
        include = _patterns(nested, _INCLUDE_KEYS, path)
    exclude = _patterns(match, _EXCLUDE_KEYS, path)
    if exclude is None:
        exclude = _patterns(nested, _EXCLUDE_KEYS, path)
    return Scope(
        include=tuple(include) if include is not None else Scope().include,
        exclude=tuple(exclude or ()),
    )


def _patterns(
    match: Mapping[str, Any], keys: tuple[str, str], path: str | None
) -> list[str] | None:
    """The patterns under the current or the legacy key; ``None`` when neither is set (an
    explicit empty list is kept: config-validator then matches nothing)."""
    present = [key for key in keys if match.get(key) is not None]
    if len(present) > 1:
        raise InvalidConstraint(path, f"spec.match sets both {keys[0]} and {keys[1]}")
    if not present:
        return None
    value = match[present[0]]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidConstraint(path, f"spec.match.{present[0]} must be a list of strings")
    for pattern in value:
        try:
            scope.validate(pattern)
        except scope.InvalidPattern as error:
            raise InvalidConstraint(path, f"spec.match.{present[0]}: {error}") from error
    return list(value)


def _mapping(parent: Mapping[str, Any], key: str, path: str | None) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidConstraint(path, f"{key} must be a mapping")
    return value


def _expanded_size(value: Any) -> int:
    """How many values ``value`` holds with every alias expanded, counted up to just past
    :data:`MAX_NODES` (iteratively: a deep document must not exhaust the stack here)."""
    count = 0
    pending = [value]
    while pending and count <= MAX_NODES:
        item = pending.pop()
        count += 1
        if isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def _first_line(error: yaml.YAMLError) -> str:
    """``line N: problem`` for a parse error: enough to find it, short enough for a log field."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"line {error.problem_mark.line + 1}: {error.problem}"
    return type(error).__name__
