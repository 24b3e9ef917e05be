"""The etl commands' processes run without pandas."""

from __future__ import annotations

import importlib.abc
import sys


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """No command uses pandas, but sqlite-utils imports it whenever it is
    installed (the test extra installs it), and pyarrow on the first array
    it makes from Python lists: 0.3 s of CPU in every build process. Both
    go on without it, as they do where it is not installed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def without_pandas() -> None:
    """From now on this process cannot import pandas (the console scripts
    call this; a library caller, such as the tests, keeps it)."""
    if not any(isinstance(finder, _WithoutPandas) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WithoutPandas())
