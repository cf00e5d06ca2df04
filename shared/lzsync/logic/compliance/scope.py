"""Does an asset fall under a constraint's ``spec.match``?

Config Validator matches a constraint against the asset's **ancestry path**, the resource
hierarchy from the organisation down (``organizations/5/folders/4/projects/123``). CAI gives the
same facts upside down in ``ancestors`` (``["projects/123", "folders/4", "organizations/5"]``),
so the path is that list reversed and joined with ``/``.

Patterns are gobwas/glob patterns with ``/`` as the separator, which is what config-validator's
GCP target compiles them with: ``*`` is any run of characters within one segment, ``**`` any run
across segments (both may be empty), ``?`` one character, ``[...]``/``[!...]`` a character class
and ``{a,b}`` alternatives. So ``organizations/1/**`` matches everything *under* organisation 1
but not the organisation itself, and ``**/folders/2/**`` does not match folder 2 itself.
An asset is in scope when one include pattern matches and no exclude pattern does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from lzsync.logic.compliance.registry import Scope

SEPARATOR: Final = "/"
# Resource-hierarchy levels in the order they nest; a pattern must not name them out of order
# (config-validator refuses `projects/1/folders/2`, `flubber/*` and the like).
_LEVELS: Final = {"organizations": 0, "folders": 1, "projects": 2}
_WILDCARD_SEGMENT: Final = re.compile(r"[*?\[{]")


class InvalidPattern(ValueError):
    """An ancestry pattern that is not valid glob syntax or names the hierarchy wrongly."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"invalid ancestry pattern {pattern!r}: {reason}")
        self.pattern = pattern


def ancestry_path(asset: Mapping[str, Any]) -> str:
    """The asset's hierarchy from the organisation down, built from CAI's ``ancestors``."""
    ancestors = asset.get("ancestors") or []
    return SEPARATOR.join(reversed([str(ancestor) for ancestor in ancestors]))


def in_scope(scope: Scope, path: str) -> bool:
    """Include patterns decide whether the asset is considered at all; exclusions always win."""
    if not any(matches(pattern, path) for pattern in scope.include):
        return False
    return not any(matches(pattern, path) for pattern in scope.exclude)


def matches(pattern: str, path: str) -> bool:
    return glob_match(pattern, path, SEPARATOR)


def glob_match(pattern: str, text: str, separator: str) -> bool:
    """gobwas/glob matching (what config-validator and OPA's ``glob.match`` use) with one
    separator character that ``*`` and ``?`` do not cross."""
    return _compile(pattern, separator).fullmatch(text) is not None


def validate(pattern: str) -> None:
    """Refuse a pattern config-validator would refuse, so a typo shows up when the constraint
    is read rather than as a constraint that silently matches nothing."""
    _compile(pattern)  # glob syntax
    expect = "level"  # what the next segment should be: "level", "id" or "any" (after **)
    deepest = -1
    for segment in pattern.split(SEPARATOR):
        if segment == "**":
            expect = "any"
        elif segment in _LEVELS and expect != "id":
            if _LEVELS[segment] < deepest:
                raise InvalidPattern(pattern, f"{segment} cannot sit below a deeper level")
            deepest = _LEVELS[segment]
            expect = "id"
        elif expect == "level" and not _WILDCARD_SEGMENT.search(segment):
            raise InvalidPattern(pattern, f"{segment!r} is not organizations, folders or projects")
        else:
            expect = "id" if expect == "level" else "level"


@lru_cache(maxsize=1024)
def _compile(pattern: str, separator: str = SEPARATOR) -> re.Pattern[str]:
    regex, end = _translate(pattern, 0, re.escape(separator), in_braces=False)
    if end != len(pattern):
        raise InvalidPattern(pattern, f"unexpected {pattern[end]!r} at {end}")
    return re.compile(regex, re.DOTALL)


def _translate(pattern: str, start: int, sep: str, *, in_braces: bool) -> tuple[str, int]:
    """Regex text for ``pattern`` from ``start``; inside ``{...}`` stops at ``,`` or ``}``."""
    out: list[str] = []
    index = start
    while index < len(pattern):
        char = pattern[index]
        if in_braces and char in ",}":
            break
        if char == "*":
            if pattern.startswith("**", index):
                out.append(".*")
                index += 2
            else:
                out.append(f"[^{sep}]*")
                index += 1
        elif char == "?":
            out.append(f"[^{sep}]")
            index += 1
        elif char == "[":
            close = pattern.find("]", index + 2)
            if close < 0:
                raise InvalidPattern(pattern, "unclosed [")
            body = pattern[index + 1 : close]
            negate = body.startswith("!")
            body = re.sub(r"([\\\]^])", r"\\\1", body[1:] if negate else body)
            out.append(f"[^{sep}{body}]" if negate else f"[{body}]")
            index = close + 1
        elif char == "{":
            alternatives: list[str] = []
            index += 1
            while True:
                alternative, index = _translate(pattern, index, sep, in_braces=True)
                alternatives.append(alternative)
                if index >= len(pattern):
                    raise InvalidPattern(pattern, "unclosed {")
                index += 1
                if pattern[index - 1] == "}":
                    break
            out.append("(?:" + "|".join(alternatives) + ")")
        elif char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out), index
