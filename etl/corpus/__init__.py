"""The joins across pages.

Enters: every page's work and trial mentions and gap tags, in page order,
plus data/ (bibliography, vocabularies, trial terms). Leaves: the
corpus-level tables (works, authors, venues, trials and their arms and
outcomes, bibliography, vocabularies, source files) and the problems found
while joining.
"""
