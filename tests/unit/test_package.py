import subprocess
import sys

from lzsync.devtools.package import FUNCTIONS, package


def test_each_function_folder_is_self_contained_and_imports(tmp_path):
    built = package(tmp_path)

    assert [folder.name for folder in built] == list(FUNCTIONS)
    for folder in built:
        assert (folder / "main.py").exists()
        assert not (folder / "lzsync" / "devtools").exists()
        requirements = (folder / "requirements.txt").read_text().splitlines()
        assert all("==" in line for line in requirements)
        assert any(line.startswith("functions-framework==") for line in requirements)
        # The folder must import on its own, with its own copy of the library.
        imported = subprocess.run(
            [sys.executable, "-c", "import main, lzsync; print(lzsync.__file__)"],
            cwd=folder,
            check=True,
            capture_output=True,
            text=True,
        )
        assert imported.stdout.strip().startswith(str(folder))
