"""Two snapshots side by side.

Enters: two data packages (a build, a release or a package directory).
Leaves: row-level differences matched by each table's stable key, what
they mean in the wiki's terms (the changelog), and the `changes` rows a
build records against a previous release. Builds of revisions (`etl
history`, `etl diff --wiki`) are pipelines: etl/pipeline/.
"""
