from etl.wiki.discover import discover, load_sources, skip_reason

from .conftest import FIXTURE_WIKI


def test_skip_rules_cover_private_maintenance_and_readme_files():
    rules = load_sources()["skip"]
    assert skip_reason("protocols/people/someone.md", rules).startswith("private")
    assert skip_reason("log/2026-05-19.md", rules) == "maintenance log, not knowledge-base content"
    assert skip_reason("studies/README.md", rules) == "folder README"
    assert skip_reason(".obsidian/workspace.md", rules).startswith("tool folders")
    assert skip_reason("molecules/proteins/il-1ra.md", rules) is None
    assert skip_reason("logistics.md", rules) is None


def test_discovery_is_sorted_and_fingerprinted():
    first = discover(FIXTURE_WIKI)
    again = discover(FIXTURE_WIKI)
    assert [p.path for p in first.pages] == [
        "molecules/proteins/demo-kinase.md",
        "pathways/demo-pathway.md",
        "phenotypes/demo-glucose-control.md",
        "studies/demo-study.md",
    ]
    assert first.snapshot == again.snapshot and len(first.snapshot["files_digest"]) == 64
