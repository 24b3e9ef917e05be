"""From a good build to a release.

Enters: a build directory and the previous release. Leaves:
dist/<version>/ (database, zipped package, CITATION.cff, notes, checksums),
its semantic version, the Datasette metadata and the reference docs
generated from the schema declaration.
"""
