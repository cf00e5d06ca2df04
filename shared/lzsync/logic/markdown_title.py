"""The title a Portal shows for a Markdown file: its first heading.

Handles YAML front matter (``title:`` wins when present), ATX headings (``# Title``, closing
hashes dropped) and setext headings (a line underlined with ``===`` or ``---``), and ignores
``#`` lines inside fenced code blocks (CommonMark 0.31, sections 4.2, 4.3 and 4.5).
"""

from __future__ import annotations

import re
from typing import Final

_ATX: Final = re.compile(r" {0,3}#{1,6}[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE: Final = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE: Final = re.compile(r" {0,3}(```|~~~)")
_FRONT_MATTER_TITLE: Final = re.compile(r"title:\s*(?P<text>.+?)\s*$")


def _front_matter_title(lines: list[str]) -> tuple[str | None, int]:
    """The front matter's title and the index of the first line after it."""
    if not lines or lines[0].strip() != "---":
        return None, 0
    for index in range(1, len(lines)):
        if lines[index].strip() in {"---", "..."}:
            for line in lines[1:index]:
                match = _FRONT_MATTER_TITLE.match(line)
                if match:
                    return match["text"].strip("'\""), index + 1
            return None, index + 1
    return None, 0


def first_heading(text: str) -> str | None:
    """The first heading's text, or None when the file has no heading."""
    lines = text.splitlines()
    title, start = _front_matter_title(lines)
    if title:
        return title
    in_fence = False
    previous = ""
    for line in lines[start:]:
        if _FENCE.match(line):
            in_fence = not in_fence
            previous = ""
            continue
        if in_fence:
            continue
        atx = _ATX.match(line)
        if atx:
            return atx["text"].strip()
        if previous.strip() and _SETEXT_UNDERLINE.match(line):
            return previous.strip()
        previous = line
    return None
