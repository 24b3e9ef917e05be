"""Gap events, defined once (etl/compare/gap_events.py): a claim reworded
is one gap changed, a different gap with the same tag on the same page is
one closed and one opened, a renamed page carries its tags, a removed page
takes them. Small diffs written here, each with the rows a build writes."""

import pytest

from etl.compare.diff import TableDiff
from etl.compare.gap_events import SAME_GAP, claim_similarity, claim_words, gap_event_row, gap_events

PAGE = "molecules/proteins/demo-kinase"


def gap(claim, tag="gap/needs-replication", page=PAGE, line=30):
    return {"page": page, "tag": tag, "claim": claim, "source_path": page + ".md", "source_line": str(line)}


def gaps(removed=(), added=()):
    return TableDiff("gaps", added=[("", row) for row in added], removed=[("", row) for row in removed])


def events(*diffs):
    return [(e.event, e.page, e.tag, e.previous_claim, e.claim) for e in gap_events(list(diffs))]


def test_a_link_rewritten_is_the_same_gap_changed():
    old = gap("Shown in [[../molecules/compounds/rapamycin]]-treated mice only [^harrison2009]. #gap/needs-replication")
    new = gap("Shown in [[rapamycin|rapamycin]]-treated mice only [^harrison2009]. #gap/needs-replication")
    assert claim_words(old["claim"]) == claim_words(new["claim"])  # the link reads the same
    assert events(gaps([old], [new])) == [("changed", PAGE, "gap/needs-replication", old["claim"], new["claim"])]


def test_a_word_reworded_a_date_moved_or_a_citation_added_is_the_same_gap_changed():
    pairs = [
        ("The effect in humans is unknown. #gap/needs-replication", "The effect in humans remains unknown."),
        (  # two words of eight changed: 6 of the shorter claim's 8 words kept
            "Full text could not be downloaded; claims checked against the abstract. #gap/no-fulltext-access",
            "Full text unavailable; claims checked against the abstract only. #gap/no-fulltext-access",
        ),
        (
            "No peer-reviewed Phase 1 paper as of 2026-05-06. #gap/needs-replication",
            "No peer-reviewed Phase 1 paper as of 2026-07-14. #gap/needs-replication",
        ),
        ("One small trial hinted at benefit #gap/needs-replication", "One small trial hinted at benefit [^a2020]"),
        (  # a sentence extended after its tag
            "Tested in one cohort. #gap/needs-replication",
            "Tested in one cohort. #gap/needs-replication A second cohort (n=40) is recruiting.",
        ),
    ]
    assert claim_similarity(*pairs[1]) == 6 / 8
    for before, after in pairs:
        assert claim_similarity(before, after) >= SAME_GAP, (before, after)
        [event] = gap_events([gaps([gap(before)], [gap(after)])])
        assert (event.event, event.previous_claim, event.claim) == ("changed", before, after)


def test_a_different_gap_with_the_same_tag_on_the_same_page_is_closed_and_opened():
    closed = gap("Long-term safety in humans is unknown. #gap/needs-replication", line=31)
    opened = gap("Dose-response in humans is unknown. #gap/needs-replication", line=31)
    listed = gap("`[[ovary]]`, `[[testis]]`, `[[uterus]]` — organs not yet seeded #stub", tag="stub", line=40)
    other = gap("`[[amhr2]]`, `[[inhibin]]`, `[[insl3]]` — proteins not yet seeded #stub", tag="stub", line=40)
    for before, after in ((closed, opened), (listed, other)):
        assert claim_similarity(before["claim"], after["claim"]) < SAME_GAP
    found = events(gaps([closed, listed], [opened, other]))
    assert sorted(found) == sorted(
        [
            ("opened", PAGE, "gap/needs-replication", None, opened["claim"]),
            ("opened", PAGE, "stub", None, other["claim"]),
            ("closed", PAGE, "gap/needs-replication", None, closed["claim"]),
            ("closed", PAGE, "stub", None, listed["claim"]),
        ]
    )


def test_only_the_same_page_and_tag_pair():
    claim = "The effect in humans is unknown. #gap/needs-replication"
    elsewhere = gap(claim.replace("is unknown", "remains unknown"), page="tissues/liver")
    other_tag = gap(claim.replace("gap/needs-replication", "gap/no-mechanism"), tag="gap/no-mechanism")
    assert [e for e, *_ in events(gaps([gap(claim)], [elsewhere, other_tag]))] == ["opened", "opened", "closed"]


def test_each_gap_pairs_once_best_match_first():
    """Two claims removed and two added with the same tag: each added one
    pairs with the removed one it is most like, whatever their order."""
    a = gap("Replicated in one mouse strain only. #gap/needs-replication", line=10)
    b = gap("The human trial enrolled twelve women. #gap/needs-replication", line=20)
    a2 = gap("Replicated in one mouse strain only (C57BL/6). #gap/needs-replication", line=11)
    b2 = gap("The human trial enrolled twelve older women. #gap/needs-replication", line=21)
    found = events(gaps([a, b], [b2, a2]))
    assert sorted(found) == sorted(
        [
            ("changed", PAGE, "gap/needs-replication", a["claim"], a2["claim"]),
            ("changed", PAGE, "gap/needs-replication", b["claim"], b2["claim"]),
        ]
    )
    # a third removed claim, as like a2 as a is, stays closed: a2 is taken
    a_again = gap("Replicated in one mouse strain only. #gap/needs-replication #2", line=15)
    assert [e for e, *_ in events(gaps([a, a_again], [a2]))] == ["changed", "closed"]


def page_row(page, title, content_hash):
    return {"page": page, "type": "pathway", "title": title, "content_hash": content_hash}


def test_a_renamed_page_carries_its_tags_and_a_removed_page_takes_them():
    pages = TableDiff(
        "pages",
        added=[("", page_row("pathways/demo-signalling", "Demo pathway", "h1"))],
        removed=[
            ("", page_row("pathways/demo-pathway", "Demo pathway", "h1")),
            ("", page_row("pathways/retired", "Retired", "h2")),
        ],
    )
    stub = "A placeholder pathway. #stub"
    carried = gaps(
        [gap(stub, "stub", "pathways/demo-pathway"), gap("Never written. #stub", "stub", "pathways/retired")],
        [gap(stub, "stub", "pathways/demo-signalling")],
    )
    found = gap_events([carried, pages])
    assert [(e.event, e.page, e.previous_page) for e in found] == [
        ("moved", "pathways/demo-signalling", "pathways/demo-pathway"),
        ("page-removed", "pathways/retired", None),
    ]
    # the same, with the claim reworded on the way: changed, from the old page
    reworded = gaps(
        [gap(stub, "stub", "pathways/demo-pathway")],
        [gap("A placeholder pathway page. #stub", "stub", "pathways/demo-signalling")],
    )
    [event] = gap_events([reworded, pages])
    assert (event.event, event.previous_page, event.previous_claim) == ("changed", "pathways/demo-pathway", stub)


def test_the_diffs_of_several_pages_are_read_together():
    """etl history compares page by page: one TableDiff per page and table."""
    old, new = (
        gap("Nobody knows why. #gap/no-mechanism", "gap/no-mechanism"),
        gap("Nobody yet knows why. #gap/no-mechanism", "gap/no-mechanism"),
    )
    assert [e for e, *_ in events(gaps([old]), gaps(added=[new]))] == ["changed"]


def test_a_gap_event_row_has_the_monday_of_its_week():
    [event] = gap_events([gaps(added=[gap("Untested. #stub", "stub")])])
    row = gap_event_row(7, "abc", "2026-03-12", event)  # a Thursday
    assert (row["seq"], row["commit_hash"], row["day"], row["week"], row["event"]) == (
        7,
        "abc",
        "2026-03-12",
        "2026-03-09",
        "opened",
    )
    assert gap_event_row(1, None, None, event)["week"] is None  # a release compared with the previous one
    assert row["source_line"] == 30 and row["similarity"] is None


@pytest.mark.parametrize("claim", ["#stub", "#gap/unsourced [^a]", ""])
def test_claims_without_words_pair_only_with_each_other(claim):
    assert claim_similarity(claim, "#stub") == 1.0
    assert claim_similarity(claim, "Something else entirely #stub") == 0.0
