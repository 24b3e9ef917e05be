"""The wiki as text.

Enters: a wiki directory (or one page's bytes). Leaves: a `Discovery` (the
pages and the snapshot they make) and, per page, a `ParsedPage`: its
frontmatter, body, footnotes, tables and gap tags, each with its line.
Pure readers of the wiki's syntax (frontmatter, Markdown, the syntax
patterns, citation records, numbers, trial facts, journals); only
discover.py looks at the directory.
"""
