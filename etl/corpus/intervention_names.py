"""The names of the wiki's intervention pages (compounds, interventions and
their classes), so that a trial's text can be read for what it tests: a
page's title, the names its title puts in parentheses, its slug as words and
its aliases ('simvastatin' is an alias of the statins page, 'D-Q' is not a
page's name). Names come from the pages themselves (PageResult.names)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..rows.trial_mentions import INTERVENTION_FOLDERS
from ..wiki.trial_names import development_code, drugs_named, slug_words

PARENTHETICAL = re.compile(r"\s*\(([^()]*)\)")
# Two letters name too many things to be read as an intervention ('IF', 'PA', 'MR').
SHORTEST = 3
# Up to this length, a name declared with capitals is matched only as declared
# ('ART', 'AIs', 'MCE'), so that 'art' or 'ais' in a sentence is not it.
ACRONYM_LENGTH = 5
# Treatment the participants were already on, or had not had ('women on AIs', 'no HRT').
BACKGROUND = re.compile(r"\b(?:on|already on|concurrently on|no|without|excluding|not on)\s+$", re.I)
# A name followed by these words is what was measured, not what was given.
MEASURED = re.compile(
    r"\s+(?:increased|decreased|improved|reduced|worsened|declined|rose|fell|capacity|duration|quality|time|"
    r"efficiency|latency|onset|endurance|scores?|performance|tolerance|levels?|habits?|patterns?|questionnaires?)\b",
    re.I,
)
# Words joining two interventions tested together ('dasatinib + quercetin').
COMBINED = re.compile(r"\s*(?:\+|&|/|\band\b|\bplus\b)\s*", re.I)


@dataclass(frozen=True)
class NamedIntervention:
    """An intervention page's name as a text writes it."""

    page: str | None  # None: a drug with no page of its own
    words: str  # as written
    start: int
    end: int


def page_names(page: str, title: str | None, aliases: tuple[str, ...]) -> list[str]:
    """What a page is called: its title without and within its
    parentheses, its slug as words, its aliases."""
    names = [slug_words(page)]
    if title:
        names.append(PARENTHETICAL.sub("", title).strip())
        # '(SS-31)', '(Vitamin C)', '(Tinosorb S, BEMT)' are other names;
        # '(duration, quality, timing)' and '(dietary intervention class)' are not.
        for inside in PARENTHETICAL.findall(title):
            names += [part.strip() for part in re.split(r"[,;/]", inside) if re.search(r"[A-Z0-9]", part)]
    names += aliases
    return [name for name in names if len(name) >= SHORTEST]


def display_name(title: str | None, page: str) -> str:
    """The name a page goes by, without what its title adds in parentheses."""
    return PARENTHETICAL.sub("", title or "").strip() or slug_words(page)


class InterventionNames:
    """Intervention pages by the names they go by; find() reads them in text."""

    def __init__(self, canonical=lambda words: None) -> None:
        # The declared term a wording stands for ('D + Q' -> 'dasatinib + quercetin', data/trial_terms.yml).
        self.canonical = canonical
        self.titles: dict[str, str] = {}
        self._pages_of: dict[str, set[str]] = {}  # folded name -> pages going by it
        self._cased: dict[str, set[str]] = {}  # short folded name -> its spellings with capitals
        self._pattern: re.Pattern | None = None

    def add_page(self, page: str, names: tuple[str, ...]) -> None:
        if not page.startswith(INTERVENTION_FOLDERS):
            return
        title, aliases = (names[0], names[1:]) if names else (None, ())
        self.titles[page] = display_name(title, page)
        for name in page_names(page, title, aliases):
            self._pages_of.setdefault(_fold(name), set()).add(page)
            if len(name) <= ACRONYM_LENGTH and name.lower() != name:
                self._cased.setdefault(_fold(name), set()).add(name)
        self._pattern = None

    def page_for(self, name: str) -> str | None:
        """The page a name stands for: the only page going by it, else the
        one whose slug it is (a class page lists its members; a member with
        its own page keeps it)."""
        pages = self._pages_of.get(_fold(name), set())
        if len(pages) == 1:
            return next(iter(pages))
        own = [page for page in pages if _fold(slug_words(page)) == _fold(name)]
        return own[0] if len(own) == 1 else None

    def find(self, text: str) -> list[NamedIntervention]:
        """The intervention pages a text names, in reading order."""
        found = []
        for match in self._compiled().finditer(text or ""):
            words = match.group(0)
            if words not in self._cased.get(_fold(words), {words}):
                continue  # 'art' is not ART
            if (page := self.page_for(words)) is not None:
                found.append(NamedIntervention(page, words, match.start(), match.end()))
        return found

    def page_of_wording(self, words: str) -> str | None:
        """The page an intervention's stated wording names, directly or by
        its declared term ('simvastatin' -> statins, 'D + Q' -> dasatinib)."""
        for wording in (words, self.canonical(words)):
            named = self.tested(wording) if wording else None
            if named and named[0].page:
                return named[0].page
        return None

    def tested(self, text: str) -> tuple[NamedIntervention, str] | None:
        """What a text says was tested: the first intervention page or drug
        (by its INN stem) it names and, when others follow it joined by
        '+', 'and', 'plus' ('dasatinib + quercetin'), all of them joined by
        ' + '; else the first development code it names ('AZD4017'). A
        drug with no page has page None."""
        found = self.find(text)
        taken = [range(n.start, n.end) for n in found]
        found += [
            NamedIntervention(None, words, start, end)
            for start, end, words in drugs_named(text)
            if not any(start in span for span in taken)
        ]
        # 'women on AIs': what they already took, not what was tested.
        found = sorted((n for n in found if _tested_here(text, n)), key=lambda n: n.start)
        if not found:
            code = development_code(text)
            return (NamedIntervention(None, code, 0, 0), code) if code else None
        words, end = [found[0].words], found[0].end
        for after in found[1:]:
            if not COMBINED.fullmatch(text[end : after.start]):
                break
            words.append(after.words)
            end = after.end
        return found[0], " + ".join(words)

    def _compiled(self) -> re.Pattern:
        if self._pattern is None:
            alternatives = _trie_pattern(self._pages_of) or "(?!)"
            self._pattern = re.compile(r"(?<![\w-])(?:" + alternatives + r")(?![\w-])", re.I)
        return self._pattern


def _trie_pattern(names) -> str:
    """The names as one pattern that shares their prefixes (a trie): the
    regex engine reads each letter once instead of trying every name in
    turn. Where one name continues another, the longer is tried first, as
    an alternation of the names longest first would; names that part at
    a letter cannot both match there. A space matches any run-separator."""
    trie: dict = {}
    for name in names:
        node = trie
        for letter in name:
            node = node.setdefault(letter, {})
        node[""] = {}  # a name ends here

    def pattern(node: dict) -> str:
        branches = [
            (r"[\s-]" if letter == " " else re.escape(letter)) + pattern(child)
            for letter, child in sorted(node.items())
            if letter
        ]
        if not branches:
            return ""
        ends = "" in node
        if len(branches) == 1 and not ends:
            return branches[0]
        return "(?:" + "|".join(branches) + ("|" if ends else "") + ")"

    return pattern(trie)


def _tested_here(text: str, named: NamedIntervention) -> bool:
    """Whether the words stand for what was tested: not a background
    treatment ('women on AIs') nor a measure ('Sleep increased 59%',
    'exercise capacity')."""
    before = text[max(0, named.start - 24) : named.start]
    return not BACKGROUND.search(before) and not MEASURED.match(text, named.end)


def _fold(name: str) -> str:
    return re.sub(r"[\s-]+", " ", name.casefold()).strip()
