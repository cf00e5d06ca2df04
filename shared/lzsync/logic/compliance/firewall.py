"""Does a VPC firewall rule match one rule pattern of ``GCPRestrictedFirewallRulesConstraintV1``?

The semantics are the policy-library template's (``gcp_restricted_firewall_rules_v1``): every
parameter is optional and defaults to ``any`` (not a factor); a firewall matches a pattern only
when it matches *all* given parameters:

- ``direction``: ``INGRESS``/``EGRESS`` (case-insensitive);
- ``rule_type``: ``allowed``/``denied``: the firewall has that list;
- ``protocol`` + ``port``: one ``allowed``/``denied`` entry has the protocol and covers the port
  (``22``), the range (``20-25``: the entry's range must contain it) or ``all`` (0-65535 or
  1-65535); an entry without ports covers every port of tcp/udp; an entry with protocol
  ``all`` matches whatever protocol and port are asked;
- ``source_ranges``/``target_ranges``: one CIDR is *exactly* one of the firewall's (no CIDR
  arithmetic), ``*`` = the firewall has some;
- ``source_tags``/``target_tags``/``*_service_accounts``: a regex found in one of the
  firewall's, ``*`` = it has some;
- ``enabled``: ``true``/``false`` (bool or string) against the firewall's ``disabled``.

Two deliberate differences, both towards what GCP enforces (see docs/compliance.md): an ingress
rule with no source at all is treated as open to ``0.0.0.0/0`` and an egress rule with no
destination as going to ``0.0.0.0/0`` (the Compute API's defaults), and a missing ``disabled``
is ``false``. Protocol numbers (``6``, ``17``) are read as their names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

ANY: Final = "any"
EVERYTHING: Final = "*"
WORLD: Final = "0.0.0.0/0"
_PORTED_PROTOCOLS: Final = frozenset({"tcp", "udp", "all"})
_FULL_RANGES: Final = ((0, 65535), (1, 65535))
# IANA protocol numbers the Compute API accepts in place of names.
_PROTOCOL_NUMBERS: Final = {"1": "icmp", "6": "tcp", "17": "udp", "132": "sctp", "50": "esp"}
_SOURCES: Final = (
    ("source_ranges", "sourceRanges"),
    ("source_tags", "sourceTags"),
    ("source_service_accounts", "sourceServiceAccounts"),
)
_TARGETS: Final = (
    ("target_ranges", "destinationRanges"),
    ("target_tags", "targetTags"),
    ("target_service_accounts", "targetServiceAccounts"),
)


@dataclass(frozen=True)
class Match:
    """What a firewall exposes that the pattern asked about, to say so in a violation."""

    action: str  # "allows" / "denies"
    traffic: str  # "tcp:22", "all protocols", "udp (all ports)"
    peers: str  # "from 0.0.0.0/0", "to 10.0.0.0/8"

    def describe(self) -> str:
        return f"firewall {self.action} {self.traffic} {self.peers}"


def match(firewall: Mapping[str, Any], pattern: Mapping[str, Any]) -> Match | None:
    """How ``firewall`` (``resource.data`` of a ``compute.googleapis.com/Firewall``) matches
    ``pattern`` (one entry of the constraint's ``rules``), or ``None`` when it does not."""
    direction = str(firewall.get("direction") or "INGRESS").upper()
    wanted_direction = str(pattern.get("direction", ANY))
    if wanted_direction != ANY and wanted_direction.upper() != direction:
        return None
    rule_type = str(pattern.get("rule_type", ANY)).lower()
    entries = _entries(firewall, rule_type)
    if not entries:
        return None
    protocols = _strings(pattern.get("protocol", ANY))
    ports = _strings(pattern.get("port", ANY))
    traffic = [
        found
        for action, entry in entries
        for protocol in protocols
        for port in ports
        if (found := _entry_match(action, entry, protocol.lower(), port)) is not None
    ]
    if not traffic:
        return None
    effective = _effective_peers(firewall, direction)
    peers: list[str] = []
    for parameter, field_name in _SOURCES + _TARGETS:
        found_peers = _peer_match(_strings(pattern.get(parameter, [ANY])), field_name, effective)
        if found_peers is None:
            return None
        peers.extend(found_peers)
    if not _enabled_match(pattern.get("enabled", ANY), bool(firewall.get("disabled", False))):
        return None
    action, what = traffic[0]
    preposition = "to" if direction == "EGRESS" else "from"
    shown = peers or effective.get(
        "destinationRanges" if direction == "EGRESS" else "sourceRanges", []
    )
    return Match(action, what, f"{preposition} {', '.join(shown) or 'anywhere'}")


def _entries(firewall: Mapping[str, Any], rule_type: str) -> list[tuple[str, Mapping[str, Any]]]:
    kinds = ("allowed", "denied") if rule_type == ANY else (rule_type,)
    verbs = {"allowed": "allows", "denied": "denies"}
    return [
        (verbs.get(key, key), entry)
        for key in kinds
        for entry in firewall.get(key) or []
        if isinstance(entry, Mapping)
    ]


def _entry_match(
    action: str, entry: Mapping[str, Any], protocol: str, port: str
) -> tuple[str, str] | None:
    raw = str(entry.get("IPProtocol", "")).lower()
    entry_protocol = _PROTOCOL_NUMBERS.get(raw, raw)
    entry_ports = [str(p) for p in entry.get("ports") or []]
    if entry_protocol == "all":
        return action, "all protocols"
    if protocol != ANY and entry_protocol != protocol:
        return None
    if port == ANY:
        return action, _traffic(entry_protocol, entry_ports)
    if not entry_ports:
        if entry_protocol in _PORTED_PROTOCOLS or port == "all":
            shown = _traffic(entry_protocol, []) if port == "all" else f"{entry_protocol}:{port}"
            return action, shown
        return None
    if port == "all":
        covered = any(_contains(_range(p), full) for p in entry_ports for full in _FULL_RANGES)
    else:
        covered = any(_contains(_range(p), _range(port)) for p in entry_ports)
    return (action, f"{entry_protocol}:{port}") if covered else None


def _traffic(protocol: str, ports: Sequence[str]) -> str:
    return f"{protocol}:{','.join(ports)}" if ports else f"{protocol} (all ports)"


def _range(port: str) -> tuple[int, int] | None:
    low, _, high = port.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        return None


def _contains(outer: tuple[int, int] | None, inner: tuple[int, int] | None) -> bool:
    return outer is not None and inner is not None and outer[0] <= inner[0] <= inner[1] <= outer[1]


def _effective_peers(firewall: Mapping[str, Any], direction: str) -> dict[str, list[str]]:
    """The firewall's peer lists, with the Compute API's default of 0.0.0.0/0 filled in."""
    peers = {field: _strings(firewall.get(field) or []) for _, field in _SOURCES + _TARGETS}
    if direction == "INGRESS" and not any(peers[field] for _, field in _SOURCES):
        peers["sourceRanges"] = [WORLD]
    if direction == "EGRESS" and not peers["destinationRanges"]:
        peers["destinationRanges"] = [WORLD]
    return peers


def _peer_match(
    wanted: list[str], field_name: str, peers: Mapping[str, list[str]]
) -> list[str] | None:
    """The firewall's values that matched (empty when the parameter is not a factor), or
    ``None`` when none of ``wanted`` matches."""
    have = peers[field_name]
    exact = field_name.endswith("Ranges")
    for value in wanted:
        if value == ANY:
            return []
        if value == EVERYTHING and have:
            return have if exact else []
        hits = [h for h in have if (h == value if exact else re.search(value, h))]
        if hits:
            return hits if exact else []
    return None


def _enabled_match(wanted: Any, disabled: bool) -> bool:
    if isinstance(wanted, bool):
        return wanted != disabled
    text = str(wanted).lower()
    if text == ANY:
        return True
    return (text == "true") != disabled if text in ("true", "false") else False


def _strings(value: Any) -> list[str]:
    """A parameter given as one value or a list, as strings (YAML may read ``22`` as an int)."""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]
