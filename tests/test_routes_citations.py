"""Citations counted by every route that answers, asked of a real
`datasette serve` on loopback over the real wiki: footnotes per year and
design, and works per journal, by the stored query, the table's facet and
filter, web SQL and the venues table. Footnotes that take a year, journal,
authors or design from the work they cite (etl/corpus/inherited.py) are
counted with the rest, and hold exactly the work's value."""

import pytest

from .test_routes import _json, _sql_count


def _facet(url, table, column, **filters):
    data = _json(url, f"/{table}.json", _facet=column, _facet_size="max", _size="0", **filters)
    return {f["value"]: f["count"] for f in data["facet_results"][column]["results"]}


def _sql_rows(url, sql, **params):
    return _json(url, ".json", sql=sql, **params)["rows"]


@pytest.fixture(scope="module")
def year_design_cells(real_db):
    """The six busiest (year, design) cells, and the six with the most
    footnotes that took their year or design from the cited work."""
    busiest = real_db.execute(
        "select year, design from footnotes where year is not null and design is not null "
        "group by 1, 2 order by count(*) desc, 1, 2 limit 6"
    ).fetchall()
    taking = real_db.execute(
        "select year, design from footnotes where year is not null and design is not null "
        "and (year_origin != 'stated' or design_origin != 'stated') group by 1, 2 order by count(*) desc, 1, 2 limit 6"
    ).fetchall()
    assert len(busiest) == len(taking) == 6
    return sorted(set(busiest) | set(taking))


def test_footnotes_per_year_and_design_agree_by_query_filter_facet_and_sql(datasette_url, year_design_cells):
    query = {
        (r["year"], r["design"]): r
        for r in _json(datasette_url, "/citations_by_year_and_design.json", design="")["rows"]
    }
    taken = 0
    for year, design in year_design_cells:
        by_query_design = {
            r["year"]: r["footnotes"]
            for r in _json(datasette_url, "/citations_by_year_and_design.json", design=design)["rows"]
        }
        by_filter = _json(datasette_url, "/footnotes.json", year=year, design=design, _size="0")
        by_design_facet = _facet(datasette_url, "footnotes", "design", year=year)
        by_year_facet = _facet(datasette_url, "footnotes", "year", design=design)
        by_sql = _sql_count(
            datasette_url, "select count(*) as n from footnotes where year = :y and design = :d", y=year, d=design
        )
        counts = (
            query[(year, design)]["footnotes"],
            by_query_design[year],
            by_filter["filtered_table_rows_count"],
            by_design_facet[design],
            by_year_facet[year],
        )
        assert counts == (by_sql,) * 5, (year, design)
        taken += query[(year, design)]["taken"]
    assert taken > 0  # the cells count footnotes that took their year or design from their work


def test_footnotes_per_year_agree_in_every_year(datasette_url):
    """The whole distribution at once: the year facet (of footnotes with a
    design), the stored query summed over designs and SQL."""
    by_facet = _facet(datasette_url, "footnotes", "year", design__notnull="1")
    by_query = {}
    for r in _json(datasette_url, "/citations_by_year_and_design.json", design="")["rows"]:
        by_query[r["year"]] = by_query.get(r["year"], 0) + r["footnotes"]
    by_sql = {
        r["year"]: r["n"]
        for r in _sql_rows(
            datasette_url,
            "select year, count(*) as n from footnotes where year is not null and design is not null group by year",
        )
    }
    assert len(by_sql) > 50 and by_facet == by_query == by_sql


@pytest.fixture(scope="module")
def busiest_journals(real_db):
    """The six journals with the most works, and the six with the most works
    whose journal only their DOI's declared prefix gives."""
    busiest = real_db.execute(
        "select venue_id from works where venue_id is not null group by 1 order by count(*) desc, 1 limit 6"
    ).fetchall()
    by_prefix = real_db.execute(
        "select venue_id from works where venue_origin = 'doi-prefix' group by 1 order by count(*) desc, 1 limit 6"
    ).fetchall()
    assert len(busiest) == len(by_prefix) == 6
    return sorted({v for (v,) in busiest + by_prefix})


def test_works_per_journal_agree_by_query_facet_filter_venues_and_sql(datasette_url, busiest_journals):
    query = {r["venue_id"]: r for r in _json(datasette_url, "/works_per_journal.json", min_works="")["rows"]}
    facet = _facet(datasette_url, "works", "venue_id")
    venues = {
        r["venue"]: r["works"] for r in _json(datasette_url, "/venues.json", works__gte="2", _col="works")["rows"]
    }
    by_sql = {
        r["venue_id"]: r["n"]
        for r in _sql_rows(
            datasette_url,
            "select venue_id, count(*) as n from works where venue_id is not null group by 1 having count(*) >= 2",
        )
    }
    assert len(by_sql) > 100
    assert {v: r["works"] for v, r in query.items()} == {v: facet[v] for v in by_sql} == venues == by_sql
    for venue in busiest_journals:
        by_filter = _json(datasette_url, "/works.json", venue_id=venue, _size="0")["filtered_table_rows_count"]
        assert by_filter == by_sql[venue], venue
    assert sum(r["from_doi_prefix"] for r in query.values()) > 0  # the counts hold works named by their DOI


def test_footnotes_per_journal_agree_by_venues_facet_and_sql(datasette_url, busiest_journals):
    """venues.footnotes counts the records citing a work: those naming the
    journal and those taking it from their work."""
    facet = _facet(datasette_url, "footnotes", "venue_id", work__notnull="1")
    for venue in busiest_journals:
        row = _json(datasette_url, "/venues.json", venue=venue)["rows"][0]
        by_sql = _sql_count(
            datasette_url,
            "select count(*) as n from footnotes where venue_id = :v and work is not null",
            v=venue,
        )
        assert (row["footnotes"], facet[venue]) == (by_sql, by_sql), venue
    differing = _sql_count(
        datasette_url,
        "select count(*) as n from venues v where v.footnotes != "
        "(select count(*) from footnotes f where f.venue_id = v.venue and f.work is not null)",
    )
    assert differing == 0


ORIGINS = ("year_origin", "venue_origin", "authors_origin", "design_origin")


def test_a_footnote_that_takes_a_fact_holds_its_works_value(datasette_url):
    taken = _sql_count(
        datasette_url,
        "select count(*) as n from footnotes where "
        + " or ".join(f"coalesce({o}, 'stated') != 'stated'" for o in ORIGINS),
    )
    unlike_the_work = _sql_count(
        datasette_url,
        "select count(*) as n from footnotes f join works w on w.work = f.work where "
        "(f.year_origin != 'stated' and f.year is not w.year) "
        "or (f.venue_origin != 'stated' and (f.venue is not w.venue or f.venue_id is not w.venue_id)) "
        "or (f.authors_origin != 'stated' and f.first_author is not w.first_author) "
        "or (f.design_origin != 'stated' and f.design is not w.design)",
    )
    without_a_work = _sql_count(
        datasette_url,
        "select count(*) as n from footnotes where work is null and ("
        + " or ".join(f"coalesce({o}, 'stated') != 'stated'" for o in ORIGINS)
        + ")",
    )
    # An origin is empty exactly where its field is.
    unexplained = _sql_count(
        datasette_url,
        "select count(*) as n from footnotes where (year is null) != (year_origin is null) "
        "or (venue is null) != (venue_origin is null) or (authors is null) != (authors_origin is null) "
        "or (first_author is null) != (authors_origin is null) or (design is null) != (design_origin is null)",
    )
    assert taken > 0 and unlike_the_work == 0 and without_a_work == 0 and unexplained == 0


@pytest.mark.parametrize(
    "column, work_column",
    [("year", "year"), ("venue", "venue"), ("first_author", "first_author"), ("design", "design")],
)
def test_no_footnote_lacks_what_its_work_states(datasette_url, column, work_column):
    """The issue's count (424 footnotes without a year whose work had one,
    407 without a journal) is now none."""
    left_short = _sql_count(
        datasette_url,
        f"select count(*) as n from footnotes f join works w on w.work = f.work "
        f"where f.{column} is null and w.{work_column} is not null",
    )
    assert left_short == 0


def test_a_year_from_a_study_page_is_the_study_pages_year(datasette_url):
    from_study = _sql_count(datasette_url, "select count(*) as n from footnotes where year_origin = 'study-page'")
    unlike = _sql_count(
        datasette_url,
        "select count(*) as n from footnotes f join works w on w.work = f.work join studies s on s.page = w.study_page "
        "where f.year_origin = 'study-page' and f.year is not s.year",
    )
    assert from_study > 100 and unlike == 0


def test_every_declared_doi_prefix_names_only_its_journal_in_the_records(datasette_url):
    """data/venues.yml declares a DOI prefix for a journal only where at
    least 10 records with such a DOI name a declared journal and all name it;
    and a work takes a journal from its DOI only by such a prefix."""
    declared = _sql_rows(
        datasette_url,
        "select v.venue, p.value as prefix from venues v, json_each(v.doi_prefixes) p order by 1, 2",
    )
    assert len(declared) >= 20
    for row in declared:
        named = _sql_rows(
            datasette_url,
            "select venue_id, count(*) as n from footnotes where venue_origin = 'stated' and venue_id is not null "
            "and substr(lower(doi), 1, length(:p)) = :p group by 1",
            p=row["prefix"],
        )
        assert [r["venue_id"] for r in named] == [row["venue"]] and named[0]["n"] >= 10, row
    unexplained = _sql_count(
        datasette_url,
        "select count(*) as n from works w where w.venue_origin = 'doi-prefix' and not exists "
        "(select 1 from venues v, json_each(v.doi_prefixes) p where v.venue = w.venue_id "
        "and substr(w.doi, 1, length(p.value)) = p.value)",
    )
    assert unexplained == 0
