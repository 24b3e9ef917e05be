"""One question, one answer, by every route that answers it: a stored
query, a table filter or facet, web SQL and the forest plot's page, asked
of a real `datasette serve` on loopback over the real wiki."""

import re
import sqlite3

import httpx
import pytest

DB = "agingkb"


def _json(url, path, **params):
    response = httpx.get(f"{url}/{DB}{path}", params={"_shape": "objects", "_size": "max", **params}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def _sql_count(url, sql, **params):
    return _json(url, ".json", sql=sql, **params)["rows"][0]["n"]


@pytest.fixture(scope="module")
def busiest_interventions(real_build):
    db = sqlite3.connect(real_build[0] / "agingkb.db")
    rows = db.execute(
        "select intervention_page, count(*) from trials where intervention_page is not null "
        "group by 1 order by 2 desc, 1 limit 6"
    ).fetchall()
    db.close()
    assert len(rows) == 6 and rows[0][1] >= 10
    return rows


def test_trials_per_intervention_agree_by_query_filter_facet_and_sql(datasette_url, busiest_interventions):
    facet = _json(datasette_url, "/trials.json", _facet="intervention_page", _facet_size="max")
    facet_counts = {f["value"]: f["count"] for f in facet["facet_results"]["intervention_page"]["results"]}
    for page, count in busiest_interventions:
        slug = page.rsplit("/", 1)[-1]
        by_query = _json(datasette_url, "/trials_of_an_intervention.json", intervention=slug, design="")["rows"]
        by_path = _json(datasette_url, "/trials_of_an_intervention.json", intervention=page, design="")["rows"]
        by_filter = _json(datasette_url, "/trials.json", intervention_page=page)
        by_sql = _sql_count(datasette_url, "select count(*) as n from trials where intervention_page = :p", p=page)
        assert (
            len(by_query),
            len(by_path),
            by_filter["filtered_table_rows_count"],
            facet_counts[page],
            by_sql,
        ) == (count,) * 5, page


def test_outcomes_per_intervention_agree_by_forest_plot_and_sql(datasette_url, busiest_interventions):
    for page, _ in busiest_interventions:
        by_sql = _sql_count(
            datasette_url,
            "select count(*) as n from trial_outcomes o join trials t on t.trial = o.trial "
            "where t.intervention_page = :p and o.ci_low is not null and o.ci_high is not null",
            p=page,
        )
        html = httpx.get(f"{datasette_url}/-/forest-plot", params={"intervention": page}, timeout=60).text
        shown = re.search(r'<p class="count">(\d+) outcomes?\b', html)
        assert shown and int(shown.group(1)) == by_sql, page
