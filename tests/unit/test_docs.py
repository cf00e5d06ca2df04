"""The docs a new user reads must name every setting the code has, and only those."""

import re

from lzsync.devtools.landing_zone import project_root
from lzsync.settings import Settings

ROOT = project_root()
SETTING_NAMES = {f"LZSYNC_{name.upper()}" for name in Settings.model_fields}


def test_readme_configuration_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(LZSYNC_[A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert documented == SETTING_NAMES


def test_env_example_lists_every_setting_without_values():
    lines = (ROOT / ".env.example").read_text().splitlines()
    entries = [line for line in lines if line and not line.startswith("#")]
    assert {line.split("=", 1)[0] for line in entries} == SETTING_NAMES
    assert all(line.endswith("=") for line in entries)


def test_ci_runs_the_test_command_readme_gives():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.MULTILINE)
