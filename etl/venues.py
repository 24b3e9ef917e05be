"""Journals: the declared list in data/venues.yml plus matching rules, so
'Nat Commun', 'Nature Communications' and 'Nature communications.' are one
journal.
A DOI names a journal only by a prefix data/venues.yml declares for it
(`doi_prefixes`, e.g. '10.1111/acel.' for Aging Cell).

A venue as written is matched by a key that ignores case, punctuation, a
leading 'The', '&' and 'and', and the dots of abbreviations. Pure once
loaded: the index is built from the declaration and never reads files.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

PUNCTUATION = re.compile(r"[.,:;'’()\[\]/*_\"“”-]+")


@functools.lru_cache(maxsize=1 << 16)
def _key_words(name: str) -> tuple[str, ...]:
    """The words of a venue key, before a leading 'the' is dropped. Each
    word of a name gives its own (ASCII folding and punctuation never reach
    across a space), so a name's are its words' in order."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    text = PUNCTUATION.sub(" ", text.replace("&", " "))
    return tuple(word for word in text.split() if word != "and")  # 'Genes & Dev', 'Genes Dev'


def _joined_key(words) -> str:
    return " ".join(words[1:] if words and words[0] == "the" else words)


def venue_key(name: str) -> str:
    """The matching key of a venue name."""
    return _joined_key(_key_words(name))


def venue_id(canonical: str) -> str:
    """A short stable ID for a journal: its canonical name as a slug."""
    return re.sub(r"[^a-z0-9]+", "-", venue_key(canonical)).strip("-")


@dataclass(frozen=True)
class Venue:
    venue: str  # ID
    name: str  # canonical name
    iso4: str | None
    variants: tuple[str, ...]
    line: int  # where data/venues.yml declares it
    doi_prefixes: tuple[str, ...] = ()  # lower case; a DOI starting with one is this journal's


@dataclass
class VenueIndex:
    venues: dict[str, Venue] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)  # key -> venue ID
    max_words: int = 1
    by_doi_prefix: dict[str, str] = field(default_factory=dict)  # declared DOI prefix -> venue ID

    def add(self, venue: Venue) -> None:
        self.venues[venue.venue] = venue
        for prefix in venue.doi_prefixes:
            self.by_doi_prefix[prefix] = venue.venue
        for written in (venue.name, venue.iso4, *venue.variants):
            if written:
                key = venue_key(written)
                self.by_key.setdefault(key, venue.venue)
                self.max_words = max(self.max_words, len(key.split()))

    def lookup(self, written: str | None) -> Venue | None:
        """The journal a venue as written names, or None."""
        if not written:
            return None
        found = self.by_key.get(venue_key(written))
        return self.venues[found] if found else None

    def lookup_doi(self, doi: str | None) -> Venue | None:
        """The journal whose declared DOI prefix the DOI starts with (the
        longest such prefix), or None: a DOI names no journal by itself."""
        if not doi:
            return None
        doi = doi.lower()
        found = [prefix for prefix in self.by_doi_prefix if doi.startswith(prefix)]
        return self.venues[self.by_doi_prefix[max(found, key=len)]] if found else None

    def leading_venue(self, text: str) -> str | None:
        """The declared journal name a text opens with ('Nature — APOE4 ...'
        gives 'Nature'), longest first; None when it opens with none."""
        words = text.split()[: self.max_words]
        # The key of the first `size` words is made of theirs (_key_words),
        # so each word is folded once, not once per length tried.
        pieces = [_key_words(word) for word in words]
        for size in range(len(words), 0, -1):
            if _joined_key([key_word for piece in pieces[:size] for key_word in piece]) in self.by_key:
                head = " ".join(words[:size]).rstrip(".,;:")
                if head:
                    return head
        return None

    def starts_with_venue(self, segment: str) -> bool:
        """Whether a segment opens with a declared journal name followed by
        a year, volume or nothing ('EMBO J 2010', 'PLoS ONE 5:e1234')."""
        head = re.split(r"\s+(?=\(?(?:18|19|20)\d\d\b|\d)|[;:(]", segment, maxsplit=1)[0]
        return self.lookup(head) is not None


def venue_index(entries: list[dict], text: str) -> VenueIndex:
    """The index of the declared journals: `entries` as loaded from
    data/venues.yml, `text` the file itself (for each entry's line)."""
    index = VenueIndex()
    entry_lines = [number for number, row in enumerate(text.split("\n"), start=1) if row.lstrip().startswith("- {")]
    for entry, line in zip(entries, entry_lines):
        index.add(
            Venue(
                venue_id(entry["name"]),
                entry["name"],
                entry.get("iso4"),
                tuple(entry.get("variants") or ()),
                line,
                tuple(prefix.lower() for prefix in entry.get("doi_prefixes") or ()),
            )
        )
    return index
