"""The build as a sequence of stages.

Enters: a wiki directory and `BuildOptions`. Leaves: a published build
directory (package, zip, database, diagnostics, summary), swapped into
place only when whole and valid. Holds the stage list, the page workers,
the per-page cache and the output directory's lock and publish step.
"""
