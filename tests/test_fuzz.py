"""Never crash: generated and mutated pages either parse (with diagnostics)
or fail the build with BuildError, never with another exception.

`make test` runs a fixed number of examples (HYPOTHESIS_PROFILE=ci, the
default); `make fuzz` runs many more."""

import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.checks.page import check_page
from etl.options import BuildOptions
from etl.pipeline.build import BuildError, build
from etl.rows.corpus_index import CorpusIndex
from etl.rows.page_rows import page_rows
from etl.wiki.parse import parse_page

from .conftest import BIN, FIXTURE_WIKI, REAL_WIKI

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", max_examples=3000, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SEED_PAGES = [FIXTURE_WIKI / "molecules/proteins/demo-kinase.md", FIXTURE_WIKI / "studies/demo-study.md"] + [
    REAL_WIKI / p
    for p in ("molecules/proteins/il-1ra.md", "molecules/compounds/anakinra.md", "phenotypes/frailty.md")
    if (REAL_WIKI / p).is_file()
]
SEEDS = [p.read_bytes() for p in SEED_PAGES]
# The tests that draw from SEEDS read pages of the real wiki when it is there.
from_real_pages = pytest.mark.wiki
INDEX = CorpusIndex(["molecules/proteins/demo-kinase", "studies/demo-study", "pathways/demo-pathway"])

FRAGMENTS = [
    "---\n",
    "type: protein\n",
    "type: study\n",
    "verified: yes\n",
    "hgnc: 6000\n",
    "aliases: [a, b\n",
    'pathways: ["[[x]]"]\n',
    "key-nodes:\n  - [[y]]\n",
    "# Title\n",
    "## Section\n",
    "| Dimension | Status |\n",
    "|---|---|\n",
    "| Pathway conserved? | yes |\n",
    "| a | [[b|c]] | d |\n",
    "[^x]: doi:10.5555/x · Alpha A · J 2020 · rct · n=5\n",
    "[^p]: See Beta 2001 (doi:10.5555/p). Gamma G et al. 2002 (Cell) found it in 12 patients; mechanistic review.\n",
    "[^q]: Candidate replacements: Delta et al. 2003 PMID 123; UniProt Q99999 (X_HUMAN), accessed 2026-01-02.\n",
    "Claim [^x] #gap/needs-replication.\n",
    "[^y]\n",
    "#stub\n",
    "> ⚠️ banner\n",
    "```\n",
    "`#gap/in-code`\n",
    "<!-- #gap/no-mechanism -->\n",
    "- item #unsourced\n",
    "    [^z]: indented\n",
    "\ufeff",
    "\r\n",
    "\x00",
    "·",
    "[[",
    "]]",
    "|",
    "#",
    ":",
    "\n",
]


def must_not_crash(data: bytes, schema):
    parsed = parse_page("fuzz/page.md", data, schema)
    rows, _ = page_rows(parsed, INDEX, schema)
    check_page(parsed, INDEX, schema)
    assert "pages" in rows and len(rows["pages"]) == 1


@given(st.binary(max_size=3000))
def test_any_bytes(schema, data):
    must_not_crash(data, schema)


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=40), max_size=60).map("".join))
def test_generated_pages(schema, text):
    must_not_crash(text.encode("utf-8", errors="surrogatepass"), schema)


def _mutate(data: bytes, kind: str, position: float, payload: bytes) -> bytes:
    at = int(position * len(data))
    lines = data.split(b"\n")
    line_at = int(position * len(lines))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([(data[at] ^ 0xFF) if at < len(data) else 0xFF]) + data[at + 1 :]
    if kind == "delete-line":
        return b"\n".join(lines[:line_at] + lines[line_at + 1 :])
    if kind == "swap-separators":
        return data.replace(" · ".encode(), b" | ").replace(b"|", "·".encode(), 3)
    if kind == "unbalance-fence":
        return b"---\n" + data if position < 0.5 else data.replace(b"---\n", b"", 1)
    if kind == "huge-line":
        return data[:at] + b"x" * 200_000 + data[at:]
    if kind == "deep-nesting":
        return data[:at] + b"\n" + b"> " * 300 + b"- " * 300 + b"[" * 2000 + b"\n" + data[at:]
    return data[:at] + payload + data[at:]


@from_real_pages
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    kind=st.sampled_from(
        ["truncate", "flip", "delete-line", "swap-separators", "unbalance-fence", "huge-line", "deep-nesting", "insert"]
    ),
    position=st.floats(min_value=0, max_value=1, exclude_max=True),
    payload=st.sampled_from([f.encode() for f in FRAGMENTS]) | st.binary(max_size=30),
)
def test_mutated_real_pages(schema, seed, kind, position, payload):
    must_not_crash(_mutate(SEEDS[seed], kind, position, payload), schema)


@from_real_pages
@settings(max_examples=8)
@given(
    pages=st.lists(
        st.tuples(
            st.sampled_from(range(len(SEEDS))),
            st.sampled_from(["truncate", "flip", "delete-line", "swap-separators", "insert"]),
            st.floats(min_value=0, max_value=1, exclude_max=True),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_build_succeeds_or_reports(tmp_path_factory, pages):
    wiki = tmp_path_factory.mktemp("fuzz-wiki")
    for number, (seed, kind, position) in enumerate(pages):
        (wiki / f"page-{number}.md").write_bytes(_mutate(SEEDS[seed], kind, position, b"#gap/x [[y|z]] |"))
    try:
        result = build(wiki, tmp_path_factory.mktemp("fuzz-out"), options=BuildOptions(jobs=1))
    except BuildError as error:
        assert "previous build kept" in str(error)
    else:
        assert result.rows["pages"] == len(pages)


def test_cli_prints_diagnostics_not_tracebacks(tmp_path):
    wiki = tmp_path / "wiki"
    wiki.mkdir()
    (wiki / "broken.md").write_bytes(b"---\ntype: protein\naliases: [x\n---\n\xff\xfe" + b"> " * 500 + b"\n")
    (wiki / "fine.md").write_bytes(b"---\ntype: reference\n---\n# Fine\n")
    for command in (["check", "--wiki", str(wiki)], ["build", "--wiki", str(wiki), "--out", str(tmp_path / "out")]):
        completed = subprocess.run([str(BIN / "etl"), *command], capture_output=True, text=True)
        assert completed.returncode == 1, completed.stderr
        assert "Traceback" not in completed.stderr + completed.stdout
        # At the unclosed "[" on line 3; the message names line 4, where parsing stopped.
        assert "broken.md:3: error: invalid YAML" in completed.stdout + completed.stderr
        assert "parsing stopped at line 4" in completed.stdout + completed.stderr
