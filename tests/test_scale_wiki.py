"""The scaled wiki used by `make bench-scale` keeps each copy's links inside
that copy."""

from benchmarks.scale_wiki import scale, scaled_text

from .conftest import FIXTURE_WIKI


def test_links_point_into_the_same_copy():
    assert scaled_text("see [[demo-kinase]], [[studies/demo-study|the study]] and [[demo-pathway#Members]]", "-x2") == (
        "see [[demo-kinase-x2]], [[studies/demo-study-x2|the study]] and [[demo-pathway-x2#Members]]"
    )


def test_k_copies_of_every_page(tmp_path):
    files = len(list(FIXTURE_WIKI.rglob("*.md")))
    assert scale(FIXTURE_WIKI, tmp_path / "x3", 3) == 3 * files
    copy = (tmp_path / "x3" / "pathways" / "demo-pathway-x1.md").read_text()
    assert "[[demo-kinase-x1]]" in copy and "[[demo-kinase]]" not in copy
    assert (tmp_path / "x3" / "pathways" / "demo-pathway.md").read_text() == (
        FIXTURE_WIKI / "pathways" / "demo-pathway.md"
    ).read_text()
