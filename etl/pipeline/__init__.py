"""The build as a sequence of stages.

Enters: a wiki directory (or a git checkout's commits) and `BuildOptions`.
Leaves: a published build directory (package, zip, database, diagnostics,
summary), swapped into place only when whole and valid. Holds the stage
list (build.py), the page workers, the per-page cache, the corpus index,
the output directory's lock and publish step, the `etl check` engine, and
the builds of many revisions: `etl history` and `etl diff --wiki`.
"""
