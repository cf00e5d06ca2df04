"""The Portal page's pure logic (card freshness, ages: ``portal/src/freshness.js`` and
``time.js``) checked by Node's own test runner, so the colour rule is tested without a
browser; the browser test covers the page around it."""

from __future__ import annotations

import shutil
import subprocess

from lzsync.devtools.landing_zone import project_root


def test_the_page_colours_cards_by_the_documented_freshness_rule():
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to build and test portal/"
    result = subprocess.run(
        [node, "--test", "test/"],
        cwd=project_root() / "portal",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
