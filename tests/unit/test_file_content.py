from lzsync.logic.file_content import MODE_SUBMODULE, MODE_SYMLINK, describe

REGULAR = 0o100644
LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345\n"
)


def test_markdown_keeps_text_and_title():
    content = describe("# Hello\nwörld".encode(), mode=REGULAR, max_text_bytes=1000)
    assert content.text == "# Hello\nwörld"
    assert content.title == "Hello"
    assert content.flag is None
    assert content.size_bytes == len("# Hello\nwörld".encode())


def test_file_over_the_limit_is_flagged_without_text():
    content = describe(b"a" * 101, mode=REGULAR, max_text_bytes=100)
    assert (content.flag, content.text, content.size_bytes) == ("too_large", None, 101)


def test_binary_file_is_flagged():
    assert describe(b"\x89PNG\r\n\x1a\n\0\0", mode=REGULAR, max_text_bytes=100).flag == "binary"
    assert describe(b"caf\xe9", mode=REGULAR, max_text_bytes=100).flag == "binary"


def test_symlink_is_flagged_with_its_target():
    content = describe(b"../docs/README.md", mode=MODE_SYMLINK, max_text_bytes=100)
    assert (content.flag, content.link_target, content.text) == (
        "symlink",
        "../docs/README.md",
        None,
    )


def test_submodule_is_flagged():
    assert describe(None, mode=MODE_SUBMODULE, max_text_bytes=100).flag == "submodule"


def test_lfs_pointer_is_flagged():
    assert describe(LFS_POINTER, mode=REGULAR, max_text_bytes=1000).flag == "lfs_pointer"
