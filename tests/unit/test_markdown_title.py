import pytest

from lzsync.logic.markdown_title import first_heading


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# 0-bootstrap\n\nThis repo...", "0-bootstrap"),
        ("intro\n\n## Deploy it ##\n", "Deploy it"),
        ("Troubleshooting\n===============\n\ntext", "Troubleshooting"),
        ("Sub\n---\n", "Sub"),
        ("```sh\n# not a heading\n```\n# Real one\n", "Real one"),
        ("---\ntitle: 'From front matter'\n---\n# Heading\n", "From front matter"),
        ("---\nlayout: x\n---\n# After front matter\n", "After front matter"),
        ("#hashtag is not a heading\n", None),
        ("plain text only\n", None),
        ("# Führung & Governance 🚀\n", "Führung & Governance 🚀"),
    ],
)
def test_title_is_the_first_heading(text, title):
    assert first_heading(text) == title
