"""The etl console scripts run without pandas and numpy (test dependencies
that sqlite-utils and pyarrow would import): the libraries a build uses work
without them, and a build's outputs do not depend on them."""

import subprocess
import sys

from .conftest import FIXTURE_WIKI

BIN = f"{sys.prefix}/bin"


def test_a_blocked_process_imports_neither_and_its_libraries_go_on_without_them():
    program = """
import sys
from etl.blocked_imports import block_unused_libraries
block_unused_libraries()
block_unused_libraries()  # once is enough: the finder is not added twice
for name in ("pandas", "numpy"):
    try:
        __import__(name)
    except ModuleNotFoundError as error:
        assert error.name == name, error
    else:
        raise AssertionError(name + " was imported")
import frictionless, pyarrow as pa, pyarrow.parquet, sqlite_utils
assert pa.array([[1, 2], None]).to_pylist() == [[1, 2], None]
assert "pandas" not in sys.modules and "numpy" not in sys.modules
print(sum(type(f).__name__ == "_Blocked" for f in sys.meta_path))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_the_etl_command_builds_the_same_package_as_a_process_that_has_them(tmp_path, fixture_build):
    """fixture_build runs in the test process, where pandas and numpy are
    importable; the console script's build must write the same CSVs."""
    out, _ = fixture_build
    done = subprocess.run(
        [f"{BIN}/etl", "build", "--wiki", str(FIXTURE_WIKI), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    for csv in sorted((out / "package").glob("*.csv")):
        assert (tmp_path / "out" / "package" / csv.name).read_bytes() == csv.read_bytes(), csv.name
