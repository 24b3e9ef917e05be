"""Checks that need more than one field of a page.

Enters: a parsed page and the corpus index. Leaves: diagnostics, one problem
at one file and line with a code from data/errors.yml. The whole-wiki check
(`etl check`) runs them the way a build does: etl/pipeline/check.py.
"""
