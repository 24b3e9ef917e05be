"""Checks a curator runs (`etl check`).

Enters: parsed pages and the corpus index. Leaves: diagnostics, one problem
at one file and line with a code from data/errors.yml; the whole-wiki check
gathers them the way a build does, without writing anything.
"""
