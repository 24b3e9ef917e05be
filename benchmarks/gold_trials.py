"""How a build's trials and trial outcomes read against the hand-labelled gold
sets (tests/gold/trials.jsonl, outcomes.jsonl; the guide is tests/gold/TRIALS.md).
Prints figures; it asserts nothing (the targets belong to the counts work).

Trials: a gold place is found when the build has a trial mention at its file
and line (the one naming the gold's registry id, if several); each field is
then compared with that mention's trial row. Recall of "is a trial" is over
the places the readers call a trial, precision over the places the build
calls one. One gold trial (one NCT id or DOI) matched to two trial rows is
a trial counted twice.

Outcomes: the build's outcomes read from a gold line and stated with a
number (the gold leaves out a bare 'NS') are paired with the gold's by
value (or, without one, by p-value), then compared field by field. A
result stated on several pages is one outcome of its trial, kept where it
is stated fullest: "recall (in its trial)" also counts a gold outcome found
among the outcomes of the trial the build names at that place, and the
fields of the pairs are compared over both (for an outcome kept from
another place, only the fields this place states). Precision is over the
outcomes read from the gold lines.

Run: python -m benchmarks.gold_trials --db build/agingkb.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold"
TRIAL_COLUMNS = {  # gold field -> how the trials row states it
    "registry_id": lambda t: t["registry_id"],
    # A trial reported by several papers holds them all (its work and the
    # work: keys it merged); the gold names the one the place cites.
    "doi": lambda t: (
        {k[9:] for k in json.loads(t["merged_keys"] or "[]") if k.startswith("work:doi:")}
        | ({t["work"][4:].lower()} if (t["work"] or "").startswith("doi:") else set())
    ),
    "name": lambda t: t["acronym"],
    "intervention": lambda t: (t["intervention"] or "").lower() or None,
    "intervention_page": lambda t: t["intervention_page"],
    "species": lambda t: t["species"],
    "randomised": lambda t: None if t["randomised"] is None else bool(t["randomised"]),
    "n": lambda t: t["n_randomised"],
    "condition": lambda t: (t["condition"] or "").lower() or None,
}
OUTCOME_COLUMNS = {
    "measure": lambda o: o["measure"],
    "metric": lambda o: o["metric"],
    "value": lambda o: o["effect_value"],
    "ci_low": lambda o: o["ci_low"],
    "ci_high": lambda o: o["ci_high"],
    "p_operator": lambda o: o["p_operator"],
    "p_value": lambda o: o["p_value"],
    "direction": lambda o: o["direction"],
}


def _gold(name: str) -> list[dict]:
    return [json.loads(line) for line in (GOLD / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _same(field: str, gold, built) -> bool:
    if isinstance(built, set):
        return gold in built if gold else not built
    if field in ("name", "measure") and gold and built:
        return gold.casefold() == built.casefold()
    if isinstance(gold, float) or isinstance(built, float):
        return gold is not None and built is not None and abs(float(gold) - float(built)) < 1e-9
    return gold == built


def trial_figures(db: sqlite3.Connection) -> dict:
    rows = db.execute(
        "select m.source_path as place_path, m.source_line as place_line, m.registry_id as mention_id, t.* "
        "from trial_mentions m "
        "join trials t on t.trial = m.trial order by m.source_path, m.source_line, m.seq"
    ).fetchall()
    at: dict[tuple, list] = defaultdict(list)
    for row in rows:
        at[row["place_path"], row["place_line"]].append(row)
    gold = _gold("trials.jsonl")
    said, found, stated, right = 0, 0, defaultdict(int), defaultdict(int)
    trials_of: dict[str, set] = defaultdict(set)
    for label in gold:
        here = at.get((label["path"], label["line"]), [])
        said += bool(here)
        if not label["is_trial"] or not here:
            continue
        found += 1
        trial = next((r for r in here if label["registry_id"] and r["mention_id"] == label["registry_id"]), here[0])
        for field, read in TRIAL_COLUMNS.items():
            right[field] += _same(field, label[field], read(trial))
            # A place that does not state a fact cannot judge the one the trial
            # holds from elsewhere (its NCT id, its n): also read where it does.
            if label[field] is not None:
                stated[field] += 1
                right[f"{field} stated"] += _same(field, label[field], read(trial))
        for key in (label["registry_id"], label["doi"]):
            if key:
                trials_of[key].add(trial["trial"])
    true = sum(label["is_trial"] for label in gold)
    both = sum(1 for label in gold if label["is_trial"] and at.get((label["path"], label["line"])))
    return {
        "gold places": len(gold),
        "gold trials": true,
        "is_trial recall": both / true,
        "is_trial precision": both / said if said else 0.0,
        **{f"{field} (of found)": right[field] / found for field in TRIAL_COLUMNS},
        **{f"{field} (where the place states it)": right[f"{field} stated"] / n for field, n in stated.items()},
        "gold trials counted twice": sum(1 for trials in trials_of.values() if len(trials) > 1),
    }


def outcome_figures(db: sqlite3.Connection) -> dict:
    at: dict[tuple, list] = defaultdict(list)
    of_trial: dict[str, list] = defaultdict(list)
    # The gold lists outcomes stated with a number; a bare 'NS' is outside it.
    for row in db.execute(
        "select * from trial_outcomes where coalesce(effect_value, ci_low, arm_a_value, p_value) is not null "
        "order by source_path, source_line, trial, seq"
    ):
        at[row["source_path"], row["source_line"]].append(row)
        of_trial[row["trial"]].append(row)
    trials_at: dict[tuple, list] = defaultdict(list)
    for row in db.execute("select distinct source_path, source_line, trial from trial_mentions"):
        trials_at[row["source_path"], row["source_line"]].append(row["trial"])
    gold_outcomes, paired, in_trial, built_at_gold, right = 0, 0, 0, 0, defaultdict(int)
    for label in _gold("outcomes.jsonl"):
        place = (label["path"], label["line"])
        built = list(at.get(place, []))
        built_at_gold += len(built)
        # A result stated on several pages is one outcome of its trial, kept
        # at its fullest statement: found when the trial named here holds it.
        elsewhere = [row for trial in trials_at.get(place, []) for row in of_trial[trial] if row not in built]
        for outcome in label["outcomes"]:
            gold_outcomes += 1
            key = "value" if outcome["value"] is not None else "p_value"
            match = _pair(outcome, key, built)
            if match is None:
                if (kept := _pair(outcome, key, elsewhere)) is not None:
                    elsewhere.remove(kept)
                    in_trial += 1
                    # Kept from a fuller statement elsewhere: a field this place
                    # leaves out cannot be judged by its label.
                    for field, read in OUTCOME_COLUMNS.items():
                        right[field] += outcome[field] is None or _same(field, outcome[field], read(kept))
                continue
            built.remove(match)
            paired += 1
            for field, read in OUTCOME_COLUMNS.items():
                right[field] += _same(field, outcome[field], read(match))
    found = paired + in_trial
    return {
        "gold outcomes": gold_outcomes,
        "recall": paired / gold_outcomes,
        "recall (in its trial)": found / gold_outcomes,
        "precision": paired / built_at_gold if built_at_gold else 0.0,
        **{f"{field} (of paired)": right[field] / found if found else 0.0 for field in OUTCOME_COLUMNS},
    }


def _pair(outcome: dict, key: str, built: list):
    return next((b for b in built if _same(key, outcome[key], OUTCOME_COLUMNS[key](b))), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "build" / "agingkb.db")
    args = parser.parse_args()
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    for title, figures in (("trials", trial_figures(db)), ("trial outcomes", outcome_figures(db))):
        print(f"{title} against the gold set")
        for name, value in figures.items():
            print(f"  {name:<32} {value:.1%}" if isinstance(value, float) else f"  {name:<32} {value}")


if __name__ == "__main__":
    main()
