"""Two snapshots side by side.

Enters: two packages (builds, releases) or revisions of a wiki checkout.
Leaves: row-level differences, their meaning in the wiki's terms (the
changelog), and the history tables of `etl history` (commits, changes,
page_history).
"""
