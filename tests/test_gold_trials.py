"""The trial and outcome gold sets (tests/gold/trials.jsonl, outcomes.jsonl):
the samples are the ones the seeded rule draws from the snapshot, every
label follows the guide's vocabulary (tests/gold/TRIALS.md), and the
second reader's labels of a third of each set are compared with the
first's, field by field. The labels were written by reading the pages,
never by running the ETL."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest

from .conftest import REAL_WIKI, ROOT

GOLD = ROOT / "tests" / "gold"
sys.path.insert(0, str(GOLD))
import sample_trials  # noqa: E402

TRIAL_FIELDS = [
    "is_trial",
    "registry_id",
    "doi",
    "name",
    "intervention",
    "intervention_page",
    "species",
    "randomised",
    "n",
    "condition",
]
OUTCOME_FIELDS = ["measure", "metric", "value", "ci_low", "ci_high", "p_operator", "p_value", "direction"]
METRICS = {"hr", "or", "rr", "irr", "md", "smd", "wmd", "percent", "pp", "difference", "ratio", "beta", "r", "other"}
DIRECTIONS = {"increase", "decrease", "improved", "worsened", "no-difference"}
NAMING = ["path", "line", "kind", "line_sha1"]


def _read(name: str) -> list[dict]:
    path = GOLD / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _labelled(kind: str) -> tuple[list[dict], list[dict]]:
    """(first reader's labels of the whole sample, second reader's labels of a third)."""
    return _read(f"{kind}.jsonl"), _read(f"{kind}_second_reader.jsonl")


@pytest.mark.parametrize("kind", ["trials", "outcomes"])
def test_the_gold_sample_is_the_one_the_rule_draws(kind):
    drawn = sample_trials.sample(REAL_WIKI, kind)
    first, second = _labelled(kind)
    assert [{k: label[k] for k in NAMING} for label in first] == drawn
    assert {tuple(label[k] for k in NAMING) for label in second} <= {tuple(d[k] for k in NAMING) for d in drawn}
    assert len(second) * 3 >= len(drawn)  # a third of the set, read again


def test_trial_labels_follow_the_guide():
    first, second = _labelled("trials")
    for label in first + second:
        assert list(label) == NAMING + TRIAL_FIELDS + ["reader", "notes"], label["path"]
        assert isinstance(label["is_trial"], bool)
        if not label["is_trial"]:
            assert all(label[f] is None for f in TRIAL_FIELDS[1:]), (label["path"], label["line"])
            continue
        assert label["registry_id"] is None or sample_trials.NCT.fullmatch(label["registry_id"])
        assert label["n"] is None or (isinstance(label["n"], int) and label["n"] > 0)
        assert label["randomised"] in (True, False, None)
        page = label["intervention_page"]
        assert page is None or (REAL_WIKI / f"{page}.md").is_file(), page
    assert sum(label["is_trial"] for label in first) >= 150


def test_outcome_labels_follow_the_guide():
    first, second = _labelled("outcomes")
    for label in first + second:
        assert list(label) == NAMING + ["outcomes", "reader", "notes"], label["path"]
        for outcome in label["outcomes"]:
            assert list(outcome) == OUTCOME_FIELDS
            assert outcome["metric"] is None or outcome["metric"] in METRICS
            assert outcome["direction"] is None or outcome["direction"] in DIRECTIONS
            for name in ("value", "ci_low", "ci_high", "p_value"):
                assert outcome[name] is None or isinstance(outcome[name], (int, float))
            assert (outcome["p_operator"] is None) == (outcome["p_value"] is None)
    assert sum(len(label["outcomes"]) for label in first) >= 250


def _agreement(kind: str, fields: list[str]) -> dict[str, float]:
    first, second = _labelled(kind)
    by_place = {tuple(label[k] for k in NAMING): label for label in first}
    pairs = [(by_place[tuple(label[k] for k in NAMING)], label) for label in second]
    if kind == "trials":
        return {f: sum(a[f] == b[f] for a, b in pairs) / len(pairs) for f in fields}
    # Outcomes: each place's list compared as a whole, and its length.
    found = {"count": sum(len(a["outcomes"]) == len(b["outcomes"]) for a, b in pairs) / len(pairs)}
    for field in fields:
        same = [
            all(x[field] == y[field] for x, y in zip(a["outcomes"], b["outcomes"]))
            for a, b in pairs
            if len(a["outcomes"]) == len(b["outcomes"]) and a["outcomes"]
        ]
        found[field] = sum(same) / len(same) if same else 1.0
    return found


def test_second_reader_agreement_is_measured(capsys):
    """Agreement per field between two readers of the same third; printed
    for the record. It is the ceiling of what a parser can be held to."""
    trials, outcomes = _agreement("trials", TRIAL_FIELDS), _agreement("outcomes", OUTCOME_FIELDS)
    with capsys.disabled():
        print("\ntrial gold, readers agree: " + ", ".join(f"{f} {v:.0%}" for f, v in trials.items()))
        print("outcome gold, readers agree: " + ", ".join(f"{f} {v:.0%}" for f, v in outcomes.items()))
    assert trials["is_trial"] >= 0.8 and outcomes["count"] >= 0.7  # the guide is read alike


def test_the_build_is_measured_against_the_gold(real_build, capsys):
    """benchmarks/gold_trials.py pairs the build's trials and outcomes with the
    gold places and prints per-field figures; the floors (FLOORS) are what the
    build has reached, less two points, so a regression shows."""
    from benchmarks.gold_trials import outcome_figures, trial_figures

    out, _ = real_build
    db = sqlite3.connect(f"file:{out / 'agingkb.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    trials, outcomes = trial_figures(db), outcome_figures(db)
    with capsys.disabled():
        print("\ntrials against the gold: " + ", ".join(f"{k} {v:.0%}" for k, v in trials.items() if "(" in k))
        print("outcomes against the gold: " + ", ".join(f"{k} {v:.0%}" for k, v in outcomes.items() if "(" in k))
    assert trials["gold trials"] == sum(label["is_trial"] for label in _labelled("trials")[0])
    assert trials["gold trials counted twice"] == 0
    below = {
        name: round(figure, 3)
        for figures in (trials, outcomes)
        for name, figure in figures.items()
        if name in FLOORS and figure < FLOORS[name]
    }
    assert below == {}


# What the build reached, less two points: issue 23's work so far (the
# target is 0.97 on every field; see the closing notes for the figures).
FLOORS = {
    "is_trial recall": 0.94,
    "is_trial precision": 0.96,
    "registry_id (of found)": 0.92,
    "doi (of found)": 0.92,
    "name (of found)": 0.89,
    "intervention (of found)": 0.59,
    "intervention_page (of found)": 0.76,
    "species (of found)": 0.95,
    "randomised (of found)": 0.93,
    "n (of found)": 0.87,
    "condition (of found)": 0.40,
    "registry_id (where the place states it)": 0.94,
    "recall": 0.46,
    "recall (in its trial)": 0.66,
    "precision": 0.71,
    "measure (of paired)": 0.36,
    "metric (of paired)": 0.96,
    "value (of paired)": 0.96,
    "ci_low (of paired)": 0.96,
    "ci_high (of paired)": 0.96,
    "p_operator (of paired)": 0.94,
    "p_value (of paired)": 0.93,
    "direction (of paired)": 0.80,
}
