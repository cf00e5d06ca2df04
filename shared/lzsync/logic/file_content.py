"""What a repository file becomes in the Portal: text with a title, or a clear flag saying why
there is no text (too large, binary, symlink, submodule, Git LFS pointer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from lzsync.logic.markdown_title import first_heading

# Git tree entry modes (git's Documentation/gitformat-index, "mode").
MODE_SYMLINK: Final = 0o120000
MODE_SUBMODULE: Final = 0o160000
# Git's binary heuristic: a NUL byte in the first 8,000 bytes (xdiff, buffer_is_binary).
_BINARY_SNIFF_BYTES: Final = 8000
# Git LFS pointer files start with this line (git-lfs docs/spec.md).
_LFS_POINTER_START: Final = b"version https://git-lfs.github.com/spec/v1"
_LFS_POINTER_MAX_BYTES: Final = 1024

ContentFlag = Literal["too_large", "binary", "symlink", "submodule", "lfs_pointer"]


@dataclass(frozen=True)
class FileContent:
    """The Portal's view of one file. ``text`` is None exactly when ``flag`` is set."""

    size_bytes: int
    text: str | None
    title: str | None
    flag: ContentFlag | None
    link_target: str | None = None


def _looks_binary(data: bytes) -> bool:
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def describe(data: bytes | None, *, mode: int, max_text_bytes: int) -> FileContent:
    """Describe a blob (``data`` is None for a submodule, which has no blob here)."""
    if mode == MODE_SUBMODULE or data is None:
        return FileContent(size_bytes=0, text=None, title=None, flag="submodule")
    size = len(data)
    if mode == MODE_SYMLINK:
        target = data.decode("utf-8", errors="replace")
        return FileContent(size, text=None, title=None, flag="symlink", link_target=target)
    if size <= _LFS_POINTER_MAX_BYTES and data.startswith(_LFS_POINTER_START):
        return FileContent(size, text=None, title=None, flag="lfs_pointer")
    if _looks_binary(data):
        return FileContent(size, text=None, title=None, flag="binary")
    if size > max_text_bytes:
        return FileContent(size, text=None, title=None, flag="too_large")
    text = data.decode("utf-8")
    return FileContent(size, text=text, title=first_heading(text), flag=None)
