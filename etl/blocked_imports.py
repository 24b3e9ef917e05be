"""The etl commands' processes run without pandas and numpy."""

from __future__ import annotations

import importlib.abc
import sys

# Test dependencies (mlcroissant needs pandas, pandas numpy) that no command
# uses, but that sqlite-utils imports whenever they are installed and pyarrow
# whenever numpy is: 0.4 s of CPU in every build process, for nothing. Both
# libraries go on without them, as they do where they are not installed.
BLOCKED = ("pandas", "numpy")


class _Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def block_unused_libraries() -> None:
    """From now on this process cannot import BLOCKED (the console scripts
    call this first; a library caller, such as the tests, keeps them)."""
    if not any(isinstance(finder, _Blocked) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Blocked())
