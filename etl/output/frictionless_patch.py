"""The one place the build reaches into frictionless's code, for speed
only: the sets of keys foreign keys point to are read once per validation
worker instead of once per resource validated, and a CSV whose dialect the
descriptor declares is not sniffed for one. The patches are written against
frictionless FRICTIONLESS_VERSION; with any other version installed they are
left out (the verdict is the same, validation slower) and a warning says so.
"""

from __future__ import annotations

import functools
import warnings
from contextlib import contextmanager
from importlib.metadata import version

FRICTIONLESS_VERSION = "5.21.0"  # TableResource.__open_lookup and CsvParser.read_cell_stream_create as there


@functools.cache
def patches_fit() -> bool:
    """Whether the installed frictionless is the one the patches were
    written for; warns, once per process, when it is not. A validation pool asks
    before it forks, so its workers inherit the answer without warning."""
    from frictionless.formats.csv.parser import CsvParser
    from frictionless.resources.table import TableResource

    installed = version("frictionless")
    patched = hasattr(TableResource, "_TableResource__open_lookup") and hasattr(CsvParser, "read_cell_stream_create")
    if installed == FRICTIONLESS_VERSION and patched:
        return True
    warnings.warn(
        f"frictionless {installed} is installed, but etl/output/frictionless_patch.py was written for "
        f"frictionless {FRICTIONLESS_VERSION}: validation runs without it, reading the keys each foreign key "
        "points to once for every resource and sniffing each CSV (same verdict, slower). Check the patch "
        "against this version.",
        RuntimeWarning,
        stacklevel=2,
    )
    return False


@contextmanager
def foreign_key_lookups_shared(built: dict[tuple[str, tuple], set]):
    """Frictionless builds the set of keys a foreign key may point to anew
    for every resource it validates: pages.csv (19 MB, mostly bodies) was
    read and cast once for each of the 36 foreign keys to pages, 7 s of CPU.
    Meanwhile each (resource, fields) set is built on its first use and
    kept in `built` for the next resource that points there. The package
    must not change during validation; the checks themselves stay
    frictionless's. Does nothing unless patches_fit()."""
    if not patches_fit():
        yield
        return
    from frictionless.resources.table import TableResource

    original = TableResource._TableResource__open_lookup

    def open_lookup(self):
        def source(fk):
            return fk["reference"]["resource"] or self.name, tuple(fk["reference"]["fields"])

        every = self.schema.foreign_keys
        self.schema.foreign_keys = [fk for fk in every if source(fk) not in built]
        try:
            original(self)  # reads only the sources not read yet
        finally:
            self.schema.foreign_keys = every
        lookup = self._TableResource__lookup
        for fk in every:
            name, fields = source(fk)
            as_named = lookup.setdefault(fk["reference"]["resource"], {})
            if (name, fields) in built:
                as_named[fields] = built[name, fields]
            else:
                built[name, fields] = as_named[fields]

    TableResource._TableResource__open_lookup = open_lookup
    try:
        yield
    finally:
        TableResource._TableResource__open_lookup = original


# What frictionless 5.21.0's CSV parser takes from csv.Sniffer: each only
# where the dialect leaves it undefined (Python's Sniffer never guesses an
# escape character; the parser keeps the declared double_quote).
SNIFFED = ("delimiter", "line_terminator", "quote_char", "skip_initial_space")


@contextmanager
def declared_csv_dialect_not_sniffed():
    """Frictionless runs csv.Sniffer over the first 100 lines of every CSV
    it reads, 0.7 s of CPU per build (pages.csv's first lines are long
    page bodies), and then keeps none of its guesses when the resource's
    dialect declares every property the sniff sets, as each of the
    package's CSV resources does. Such a CSV is read with the declared
    dialect straight away; any other is read as frictionless reads it.
    Does nothing unless patches_fit()."""
    if not patches_fit():
        yield
        return
    import csv

    from frictionless.formats.csv.control import CsvControl
    from frictionless.formats.csv.parser import CsvParser

    original = CsvParser.read_cell_stream_create

    def read_cell_stream_create(self):
        control = CsvControl.from_dialect(self.resource.dialect)
        if self.resource.format == "tsv" or not all(map(control.has_defined, SNIFFED)):
            yield from original(self)
            return
        yield from csv.reader(self.loader.text_stream, dialect=control.to_python())

    CsvParser.read_cell_stream_create = read_cell_stream_create
    try:
        yield
    finally:
        CsvParser.read_cell_stream_create = original
