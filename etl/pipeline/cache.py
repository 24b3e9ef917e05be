"""Per-page cache: what processing one page gave (a PageResult: its rows,
its mentions of works and trials, its diagnostics), kept under the output directory and
reused while nothing it depended on has changed.

An entry is keyed by the page's content hash within a directory named by
the code version: a digest of etl/*.py, every file in data/, the library
versions the parse depends on and the page-size limit. Any change to the
code or to data/ therefore starts an empty cache.

A page also depends on the rest of the wiki: which link targets exist and
which study page has which DOI. While a page is processed its CorpusIndex
journals every such question with its answer; an entry is reused only when
the current index gives every answer again (at once when the index is the
one the entry was made with: same pages, same study works). So renaming a
page recomputes exactly the pages whose links it changes.

Each entry is written to a temporary file and renamed into place, so a
build killed at any moment leaves whole entries or none. Rows name their
source file and line, not the snapshot (the source_files table does), so a
reused entry's rows are the bytes a fresh parse would give.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from importlib import metadata as package_metadata
from pathlib import Path

from ..rows.result import PageResult
from ..wiki import markdown

CODE_DIR = Path(__file__).resolve().parent.parent  # the etl package
CACHE_DIR = ".cache"  # under a build's output directory
CORPUS_PROBLEMS_MEMO = "corpus-problems"  # what joining the pages found, for `etl check`
LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "pyromark", "ruamel.yaml", "PyYAML", "python-frontmatter")


def code_version(data_dir: Path, max_page_bytes: int) -> str:
    """Digest of everything besides the page that shapes a page's results."""
    digest = hashlib.sha256()
    for folder, pattern in ((CODE_DIR, "**/*.py"), (Path(data_dir), "*")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for library in LIBRARIES:
        digest.update(f"{library}={package_metadata.version(library)}\0".encode())
    digest.update(f"python={sys.version_info[:3]} max_page_bytes={max_page_bytes} parser={markdown.PARSER}".encode())
    return digest.hexdigest()[:20]


@contextmanager
def atomic_file(path: Path, prefix: str):
    """A binary stream for `path`, written under a temporary name (starting
    with `prefix`) and renamed into place once whole, so a process killed at
    any moment leaves the old file or the new one, never part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class PageCache:
    def __init__(self, root: Path, version: str):
        self.root = Path(root)
        self.directory = self.root / version
        self.hits = 0
        self._checked: dict[str, tuple[int, int]] = {}  # key -> (offset after the journal, inode), from valid()

    @staticmethod
    def key(path: str, content_hash: str) -> str:
        """An entry's key: the page's path and content (two pages with the
        same text still give different rows)."""
        return hashlib.sha256(f"{path}\0{content_hash}".encode()).hexdigest()

    @staticmethod
    def corpus_key(index, pages) -> str:
        """What the pages say together depends on: every page's key and the
        corpus index they were read with."""
        digest = hashlib.sha256(index.digest.encode())
        for page in pages:
            digest.update(PageCache.key(page.path, page.sha256).encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pickle"

    # An entry is three pickles in a row: what the page asked of the index,
    # then its result without its rows, then its rows, so a check (which
    # needs no rows) and the test for staleness read only what they need.

    def valid(self, key: str, index) -> bool:
        """Whether the page's entry exists and every question it asked of
        the index still gets the same answer."""
        try:
            with open(self._path(key), "rb") as handle:
                header = pickle.load(handle)
                after_header, inode = handle.tell(), os.fstat(handle.fileno()).st_ino
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return False
        # The same index answers every question alike; else ask them again.
        if header.get("index") != index.digest and not all(index.answers(question) for question in header["journal"]):
            return False
        self._checked[key] = after_header, inode  # load() skips the journal
        self.hits += 1
        return True

    def load(self, key: str, with_rows: bool = True, with_journal: bool = False) -> PageResult:
        """A valid entry's result; its tables are empty without `with_rows`,
        its journal without `with_journal`."""
        after_header, inode = self._checked.pop(key)
        with open(self._path(key), "rb") as handle:
            if os.fstat(handle.fileno()).st_ino == inode and not with_journal:
                handle.seek(after_header)
                journal = []
            else:  # replaced since valid() read it, or the journal is wanted
                journal = pickle.load(handle)["journal"]
            result = pickle.load(handle)
            if with_rows:
                result.tables = pickle.load(handle)
        result.journal = journal
        return result

    def store(self, key: str, result: PageResult, index_digest: str) -> tuple[bytes, bytes]:
        """Writes the entry; returns the pickles of the result (without its
        tables and journal) and of its tables, as the entry holds them
        (a parse worker sends these to the build: see StoredResult)."""
        header = {"journal": result.journal, "index": index_digest}
        parts = [
            pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
            for part in (header, replace(result, tables={}, journal=[]), result.tables)
        ]
        with atomic_file(self._path(key), ".entry-") as stream:
            stream.write(b"".join(parts))
        return parts[1], parts[2]

    def load_memo(self, name: str) -> dict:
        """A small table kept beside the entries (empty when there is none)."""
        try:
            with open(self.directory / f"{name}.memo", "rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError):
            return {}

    def store_memo(self, name: str, value: dict) -> None:
        with atomic_file(self.directory / f"{name}.memo", ".memo-") as stream:
            pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)

    def memo(self, name: str, make):
        """What make() returns, kept for this code version (it may depend
        only on the code and data/, as the version does)."""
        memo = self.load_memo(name)
        if not memo:
            memo = {"value": make()}
            self.store_memo(name, memo)
        return memo["value"]

    def prune(self, keep: set[str]) -> None:
        """Keep only this code version's entries for the pages just built."""
        if not self.root.is_dir():
            return
        for other in self.root.iterdir():
            if other != self.directory and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
        if not self.directory.is_dir():
            return
        for folder in self.directory.iterdir():
            if not folder.is_dir():  # a memo, or one a killed build left half-written
                if folder.name.startswith(".memo-"):
                    folder.unlink(missing_ok=True)
                continue
            for entry in folder.iterdir():
                if entry.name.startswith(".entry-") or entry.stem not in keep:
                    entry.unlink(missing_ok=True)
