"""One page's rows.

Enters: a `ParsedPage` and the corpus index (which pages exist, which study
page is which work). Leaves: the page's rows for every page-level table and
its typed mentions of works and trials, which the corpus stage joins.
Pure: no file is read here.
"""
