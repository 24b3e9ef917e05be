"""Two revisions of a wiki checkout, built for `etl diff --wiki`."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..options import BuildOptions
from ..wiki.revisions import Tree, require_checkout, resolve
from .build import BuildError, build


@contextmanager
def revision_packages(checkout: Path, old_revision: str, new_revision: str, options: BuildOptions | None = None):
    """Packages of two revisions of a wiki checkout, built in a scratch
    directory; the second build reuses the first one's page cache."""
    checkout = require_checkout(checkout)
    old, new = resolve(checkout, old_revision), resolve(checkout, new_revision)
    with tempfile.TemporaryDirectory(prefix="agingkb-diff-") as scratch:
        scratch = Path(scratch)
        tree = Tree(checkout, scratch / "wiki")
        out = scratch / "out"
        for revision, commit in ((old_revision, old), (new_revision, new)):
            try:
                build(tree.show(commit), out, options, upstream_commit=commit, git_commit=commit)
            except BuildError as error:
                raise BuildError(f"revision {revision} ({commit[:12]}) does not build: {error}") from None
            if commit == old:
                shutil.copytree(out / "package", scratch / "old-package", dirs_exist_ok=True)
        yield scratch / "old-package", out / "package"
