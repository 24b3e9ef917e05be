"""The reader's questions about trials, asked of a real `datasette serve` on
loopback over the real wiki, and the forest plot opened in a real headless
Chromium (Debian's, driven by Playwright). Screenshots are written to
test-artifacts/."""

import sqlite3

import httpx

from .conftest import ARTIFACTS

LARSEN, VAN_TASSELL, BRESNIHAN = (
    "doi:10.1056/nejmoa065213",
    "doi:10.1016/j.amjcard.2013.08.047",
    "doi:10.1002/1529-0131(199812)41:12<2196::aid-art15>3.0.co;2-2",
)


def stored_query(url, name, **params):
    response = httpx.get(f"{url}/agingkb/{name}.json", params={"_shape": "objects", **params}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json()["rows"]


def test_every_randomised_trial_with_fewer_than_100_participants(datasette_url):
    rows = stored_query(datasette_url, "small_randomised_trials", max_n="100")
    trials = {r["trial"]: r for r in rows}
    assert trials[LARSEN]["n_randomised"] == 70 and trials[VAN_TASSELL]["n_randomised"] == 12
    assert BRESNIHAN not in trials
    assert all(r["n_randomised"] < 100 for r in rows)
    assert [r["n_randomised"] for r in rows] == sorted(r["n_randomised"] for r in rows)


def test_primary_outcomes_below_a_p_threshold(datasette_url):
    at_05 = stored_query(datasette_url, "significant_primary_outcomes", p_threshold="0.05")
    assert any(r["trial"] == LARSEN and r["measure"] == "HbA1c" and r["p_value"] == 0.03 for r in at_05)
    at_01 = stored_query(datasette_url, "significant_primary_outcomes", p_threshold="0.01")
    assert at_01 and not any(r["trial"] == LARSEN for r in at_01)
    assert all(r["p_value"] < 0.01 or (r["p_operator"] == "<" and r["p_value"] <= 0.01) for r in at_01)
    assert stored_query(datasette_url, "significant_primary_outcomes", p_threshold="") == at_01  # 0.01 when left empty


def test_crossover_trials_of_anakinra_by_query_and_by_facet(datasette_url):
    rows = stored_query(datasette_url, "trials_of_an_intervention", intervention="anakinra", design="crossover")
    assert [(r["trial"], r["acronym"]) for r in rows] == [(VAN_TASSELL, "D-HART")]
    facet = httpx.get(
        f"{datasette_url}/agingkb/trials.json",
        params={"_shape": "objects", "design": "crossover", "intervention_page": "molecules/compounds/anakinra"},
    ).json()
    assert [r["trial"] for r in facet["rows"]] == [VAN_TASSELL]


def test_registered_trials_still_recruiting_by_condition(datasette_url, real_build):
    rows = stored_query(datasette_url, "recruiting_trials")
    ids = {r["registry_id"] for r in rows}
    assert "NCT06336733" in ids and "NCT05177822" not in ids  # recruiting vs active, not recruiting (anakinra's table)
    assert {r["registry_status"] for r in rows} <= {"recruiting", "not-yet-recruiting", "enrolling-by-invitation"}
    conditions = [r["condition"].lower() for r in rows]
    assert conditions == sorted(conditions, key=lambda c: "~" if c == "(not stated)" else c)
    db = sqlite3.connect(real_build[0] / "agingkb.db")
    expected = db.execute(
        "select count(*) from trials where registry_id is not null "
        "and registry_status in ('recruiting', 'not-yet-recruiting', 'enrolling-by-invitation')"
    ).fetchone()[0]
    assert len(rows) == expected
    # Grouped by the normalised term where there is one, the spelling kept beside it.
    normalised = dict(db.execute("select registry_id, condition_normalised from trials where registry_id is not null"))
    assert all(r["condition"] == normalised[r["registry_id"]] for r in rows if normalised.get(r["registry_id"]))


def test_claims_needing_replication_that_rest_on_one_small_trial(datasette_url):
    rows = stored_query(datasette_url, "claims_on_one_small_trial", max_n="100")
    il1ra = {r["trial"] for r in rows if r["page"] == "molecules/proteins/il-1ra"}
    assert {LARSEN, VAN_TASSELL} <= il1ra
    assert all(r["n_randomised"] < 100 for r in rows)
    needing = {r["trial"] for r in stored_query(datasette_url, "trials_needing_replication")}
    assert {LARSEN, VAN_TASSELL, "NCT05177822"} <= needing


def test_trial_tables_have_their_facets(datasette_url):
    data = httpx.get(f"{datasette_url}/agingkb/trials.json", params={"_size": "1"}).json()
    facets = set(data["facet_results"])
    assert {
        "design",
        "blinding",
        "phase_normalised",
        "registry_status",
        "condition_normalised",
        "intervention_normalised",
        "randomised",
        "needs_replication",
    } <= facets
    assert not {"phase", "condition"} & facets  # spellings are not what the default facets count
    outcomes = httpx.get(f"{datasette_url}/agingkb/trial_outcomes.json", params={"_size": "1"}).json()
    assert {"role", "p_operator"} <= set(outcomes["facet_results"])


def test_attr_cm_spellings_are_one_value_of_the_served_condition_facet(datasette_url):
    spellings = ["ATTR-CM", "ATTR-CM (hATTR-CM and wtATTR-CM)", "ATTR-CM (real-world registry)", "ATTRibute-CM OLE"]
    data = httpx.get(
        f"{datasette_url}/agingkb/trials.json", params={"_size": "0", "_facet_size": "max"}, timeout=30
    ).json()
    values = {item["value"]: item["count"] for item in data["facet_results"]["condition_normalised"]["results"]}
    assert not (set(spellings) - {"ATTR-CM"}) & set(values)  # no spelling is a value of its own
    rows = []
    for spelling in spellings:
        rows += httpx.get(
            f"{datasette_url}/agingkb/trials.json", params={"_shape": "objects", "condition": spelling}, timeout=30
        ).json()["rows"]
    assert len(rows) >= len(spellings) and {r["condition_normalised"] for r in rows} == {"ATTR-CM"}
    by_facet = httpx.get(
        f"{datasette_url}/agingkb/trials.json",
        params={"_shape": "objects", "condition_normalised": "ATTR-CM", "_size": "max"},
        timeout=30,
    ).json()["rows"]
    assert {r["trial"] for r in rows} <= {r["trial"] for r in by_facet} and values["ATTR-CM"] == len(by_facet)


# --- the forest plot in a real browser -----------------------------------


def test_the_forest_plot_opens_from_the_home_page_and_draws_every_interval(browser, datasette_url, real_build):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(datasette_url + "/")
    page.click("text=Forest plot of trial outcomes")
    page.wait_for_url("**/-/forest-plot")
    db = sqlite3.connect(real_build[0] / "agingkb.db")
    with_interval = db.execute(
        "select count(*) from trial_outcomes where ci_low is not null and ci_high is not null"
    ).fetchone()[0]
    assert page.locator("svg .outcome").count() == with_interval > 100
    assert page.locator("svg .panel[data-scale^='Ratio']").count() == 1
    box = page.locator("svg .outcome line.ci").first.bounding_box()
    assert box and box["width"] > 1  # drawn, not just present in the markup
    assert "CC BY 4.0" in page.locator("footer").inner_text()
    page.screenshot(path=str(ARTIFACTS / "forest-plot.png"), full_page=False)

    # A reader narrows it to one intervention with the form.
    page.select_option("select[name=intervention]", "molecules/compounds/anakinra")
    page.click("input[type=submit]")
    page.wait_for_url("**intervention=molecules%2Fcompounds%2Fanakinra**")
    anakinra = db.execute(
        "select count(*) from trial_outcomes o join trials t on t.trial = o.trial "
        "where o.ci_low is not null and t.intervention_page = 'molecules/compounds/anakinra'"
    ).fetchone()[0]
    assert page.locator("svg .outcome").count() == anakinra >= 1
    assert "HbA1c" in page.locator(".forest svg").text_content()
    outside = db.execute(
        "select count(*) from trial_outcomes o join trials t on t.trial = o.trial "
        "where o.ci_low is not null and t.intervention_page = 'molecules/compounds/anakinra'"
        " and o.effect_value is not null"
        " and not (o.effect_value between min(o.ci_low, o.ci_high) and max(o.ci_low, o.ci_high))"
    ).fetchone()[0]
    assert (
        page.locator("svg rect.effect.outside").count() == outside == 1
    )  # Larsen 2007: −0.46 pp with 95% CI 0.01–0.90, as written
    page.screenshot(path=str(ARTIFACTS / "forest-plot-anakinra.png"), full_page=True)
    assert errors == []
    page.close()
