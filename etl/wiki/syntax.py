"""The wiki's own syntax, each pattern defined once.

Pure: compiled patterns and the small helpers derived from them. Every
module that reads the syntax (etl/wiki, etl/rows, etl/checks) takes it from
here; what a pattern accepts is shown in tests/test_syntax.py.

- Wikilinks, as Obsidian writes them: ``[[target]]``, ``[[target#anchor]]``,
  ``[[target|alias]]``, ``[[target#anchor|alias]]``. A target ends at the
  first '#', '|' or bracket, an anchor at the first '|' or bracket, an
  alias at the first bracket; so no part holds '[' or ']' and
  ``[[a [[b]]`` is the link ``[[b]]``. ``[[#anchor]]`` links inside the
  page and names no page: WIKILINK matches it (the links table keeps it),
  PAGE_LINK does not (a footnote's links and a frontmatter link do not).
  WIKILINK_VALUE is a frontmatter value that is one page link and nothing
  else ('"[[page]]"'); LEADING_PAGE_LINK one that opens with a page link
  ('[[sting]] activation → TBK1', which `etl check` still checks).
  link_text reads a link as a reader sees it, up to the first ']]', so its
  alias may hold a bracket (see LINK_TEXT).
- Code spans: a run of backticks up to the same run, across lines as in
  CommonMark. Text in a code span is quoted, not written: mask_code blanks
  it (keeping offsets) before links, tags and identifiers are looked for.
- Footnote references ``[^label]``: a label holds no space or ']'.
- Gap tags ``#gap/<name>``, ``#stub``, ``#unsourced``: see GAP_TAG.
- ClinicalTrials.gov registrations: 'NCT' and exactly eight digits, a
  whole word (REGISTRY_ID); 'NCT' and any other number of digits is a
  malformed one (MALFORMED_REGISTRY_ID).
- DOIs: '10.', a registrant code of 4 to 9 digits, '/', a suffix. Written
  'doi:10.…', 'DOI 10.…', as a doi.org URL (DOI, and DOI_INTRO to strip the
  introduction from a frontmatter value) or bare (BARE_DOI). The capture
  is loose and clean_doi trims what ends the sentence; VALID_DOI is the
  shape a DOI must have.

data/vocabularies.yml states the DOI and NCT shapes a second time, as the
patterns of the identifier_schemes table (published in the package, used
to check typed frontmatter identifiers); tests/test_syntax.py checks the
two agree.
"""

from __future__ import annotations

import re


def not_after(characters: str, head: str) -> str:
    """A pattern for `head` (of fixed width) not preceded by one of
    `characters`: what (?<!characters)head finds, but opening with `head`
    itself. The regex engine skips straight to each place a pattern's
    opening literal or character set occurs, and tries every position of
    the text when it opens with \\b or a lookbehind: 'NCT(?<!\\wNCT)...' over
    the wiki's 22 MB takes 0.007 s, '\\bNCT...' 0.35 s."""
    return f"{head}(?<!{characters}{head})"


# --- wikilinks -------------------------------------------------------------
_TARGET = r"[^\[\]|#]"  # one character of a target
_ANCHOR_AND_ALIAS = r"(?:#([^\[\]|]*))?(?:\|([^\[\]]*))?"
# Groups: target (may be empty), anchor, alias.
WIKILINK = re.compile(rf"\[\[({_TARGET}*){_ANCHOR_AND_ALIAS}\]\]")
# The same link when it names a page: a target of at least one character.
PAGE_LINK = re.compile(rf"\[\[({_TARGET}+){_ANCHOR_AND_ALIAS}\]\]")
# Used with .match: a value that opens with a page link, or is one.
LEADING_PAGE_LINK = re.compile(rf"\s*{PAGE_LINK.pattern}")
WIKILINK_VALUE = re.compile(rf"\s*{PAGE_LINK.pattern}\s*$")
# What a reader sees of a link: the alias, else the target (with its
# '#anchor'). Read up to the first ']]', as Obsidian shows it, so unlike
# WIKILINK the alias may hold a bracket: one page writes
# '[[lpa|Lipoprotein(a) [Lp(a)]]]', shown as 'Lipoprotein(a) [Lp(a)]'.
LINK_TEXT = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]")


def link_text(text: str) -> str:
    """Text with each wikilink replaced by what a reader sees of it."""
    return LINK_TEXT.sub(r"\1", text) if "[[" in text else text  # most text has no link


# --- code spans --------------------------------------------------------------
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def mask_code(text: str) -> str:
    """Blank out inline code spans (keeping offsets) so tags, links and
    identifiers quoted as code are not taken for real ones."""
    if "`" not in text:  # most text has no code span
        return text
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


# --- footnote references -------------------------------------------------------
FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")

# --- gap tags ------------------------------------------------------------------
# A tag opens a value, follows a space or punctuation, or opens a quoted
# string ("#gap/not-populated — ..." in a frontmatter value); it is not
# followed by a word character, '/' or '-', so '#gap/x/y' and '#stubs' are
# no tags. A gap name starts and ends with a letter or digit.
GAP_TAG = re.compile(r"(?<![^\s(\[*_>|,;:\"'“‘])#((?:gap/[A-Za-z0-9][\w-]*[A-Za-z0-9])|stub|unsourced)(?![\w/-])")

# --- trial registrations ---------------------------------------------------------
_NCT_NUMBER = r"\d{8}"
_NCT = not_after(r"\w", "NCT")
REGISTRY_ID = re.compile(rf"{_NCT}{_NCT_NUMBER}\b")
MALFORMED_REGISTRY_ID = re.compile(rf"{_NCT}(?!{_NCT_NUMBER}\b)\d+\b")

# --- DOIs ------------------------------------------------------------------------
_DOI_REGISTRANT = r"\d{4,9}/"  # what follows a DOI's '10.'
_DOI_NAME = rf"10\.{_DOI_REGISTRANT}"  # what every DOI opens with
_DOI_INTRO = r"(?:\bdoi:?\s*|https?://(?:dx\.)?doi\.org/)"
# Captured loosely (up to a space or ' · ') and validated against VALID_DOI
# later, so a malformed DOI is reported rather than missed.
DOI = re.compile(rf"{_DOI_INTRO}([^\s·]+)", re.IGNORECASE)
BARE_DOI = re.compile("(" + not_after(r"[\w./-]", r"10\.") + _DOI_REGISTRANT + r"[^\s·]+)")
VALID_DOI = re.compile(rf"{_DOI_NAME}\S+")
DOI_INTRO = re.compile(rf"^{_DOI_INTRO}", re.IGNORECASE)


def clean_doi(doi: str) -> str:
    """Trim punctuation that ends a sentence rather than the DOI; keep
    parentheses that balance (e.g. Wiley SICI DOIs)."""
    doi = doi.rstrip(".,;:*_\"'”’")
    while doi.endswith(")") and doi.count(")") > doi.count("("):
        doi = doi[:-1].rstrip(".,;:")
    while doi.endswith("]") and doi.count("]") > doi.count("["):
        doi = doi[:-1].rstrip(".,;:")
    return doi
