"""Serve stage: the row page of a wiki page, read like a page.

A reader lands on a page's row. It shows the rendered body (page_body.py)
and what the tables hold about the page: its verification block,
identifiers, evidence grades, trials, footnotes, gaps, relations,
backlinks and history. Every item carries the URL of its own row; the
template (templates/row-agingkb-pages.html) escapes everything it shows.
"""

from __future__ import annotations

from urllib.parse import quote_plus

from .queries import IdentifierLinks, RowUrls, fetch_one, fetch_rows, json_list, outcome_rows, page_link, trial_name

# A hub page is the target of hundreds of links: its lists show the first
# LONG_LIST items and link to the whole list in the table view.
LONG_LIST = 100
FOOTNOTE_SCHEMES = ("doi", "pmid", "pmc")

PAGE_SQL = """select page, title, type, folder, verified, verified_date, verified_by, verified_scope,
  literature_checked_through, is_stub, banner, word_count, footnote_count, gap_count from pages where page = ?"""
VERIFICATION_COLUMNS = ("verified", "verified_date", "verified_by", "verified_scope", "literature_checked_through")


def page_identifiers(conn, page: str, urls: RowUrls) -> list[dict]:
    """The page's own identifiers (frontmatter and prose); those in citation
    records are shown with their footnotes."""
    rows = fetch_rows(
        conn,
        """select i.field, i.position, i.scheme, s.label as scheme_label, i.value, i.raw, i.declared_null, i.valid,
          i.url
        from identifiers i left join identifier_schemes s on s.scheme = i.scheme
        where i.page = ? and i.field not like 'footnote:%' order by i.field, i.position""",
        [page],
    )
    for row in rows:
        row["row_url"] = urls.row("identifiers", page, row["field"], row["position"])
    return rows


def page_grades(conn, page: str, urls: RowUrls) -> list[dict]:
    """The page's evidence-grading tables in page order, each with its
    section heading and its rows, as the page shows them: one dimension may
    be graded in several tables (one per finding), and only the section
    says which finding a row grades."""
    rows = fetch_rows(
        conn,
        """select a.table_seq, a.row, a.dimension, a.dimension_text, a.status, a.status_text, a.qualifier, a.notes,
          a.section, a.section_seq, a.source_line
        from status_assessments a where a.page = ? order by a.table_seq, a.row""",
        [page],
    )
    tables: dict[int, dict] = {}
    for row in rows:
        row["row_url"] = urls.row("status_assessments", page, row["table_seq"], row["row"])
        table = tables.setdefault(
            row["table_seq"],
            {
                "table_seq": row["table_seq"],
                "section": row["section"],
                "section_url": urls.row("sections", page, row["section_seq"]) if row["section_seq"] else None,
                "line": row["source_line"],
                "rows": [],
            },
        )
        table["rows"].append(row)
    return [{**table, "position": n} for n, table in enumerate(tables.values(), start=1)]


def page_trials(conn, page: str, urls: RowUrls, titles: dict) -> list[dict]:
    """Trials the page mentions, with every outcome recorded for them."""
    trials = fetch_rows(
        conn,
        """select t.trial, t.acronym, t.title, w.label as work_label, t.registry_id, t.design, t.randomised,
            t.blinding, t.phase, t.n_randomised, t.intervention, t.comparator, t.condition, t.needs_replication,
            group_concat(distinct m.kind) as kinds
        from trial_mentions m join trials t on t.trial = m.trial left join works w on w.work = t.work
        where m.page = ? group by t.trial order by t.trial""",
        [page],
    )
    outcomes = outcome_rows(conn, [t["trial"] for t in trials], urls, titles)
    for trial in trials:
        trial["name"] = trial_name(trial)
        trial["row_url"] = urls.row("trials", trial["trial"])
        trial["outcomes"] = outcomes[trial["trial"]]
    return trials


def page_footnotes(conn, page: str, urls: RowUrls, titles: dict) -> list[dict]:
    """The page's footnotes, each with links for its DOI, PMID and PMC: the
    URLs the build stored for the footnote's identifiers (identifiers.url)."""
    rows = fetch_rows(
        conn,
        """select f.seq, f.label, f.record, f.work, w.label as work_label, f.doi, f.pmid, f.pmc, f.study_page,
            f.authors, f.title, f.venue, f.venue_id, f.year, f.design, f.n, f.p_value_text, f.model,
            f.retracted, f.citation_count, f.ref_count, f.duplicate, f.parse_status
        from footnotes f left join works w on w.work = f.work where f.page = ? order by f.seq""",
        [page],
    )
    identifiers = IdentifierLinks(conn, [page])
    for row in rows:
        row["row_url"] = urls.row("footnotes", page, row["seq"])
        row["work_url"] = urls.row("works", row["work"]) if row["work"] else None
        row["study"] = page_link(urls, row["study_page"], titles.get(row["study_page"]))
        row["resolvers"] = identifiers.links(row, FOOTNOTE_SCHEMES)
    return rows


def page_gaps(conn, page: str, urls: RowUrls) -> list[dict]:
    rows = fetch_rows(
        conn,
        """select g.seq, g.tag, t.tag as known_tag, g.claim, g.qualifier, g.location, g.field, g.section, g.footnotes
        from gaps g left join gap_tags t on t.tag = g.tag where g.page = ? order by g.seq""",
        [page],
    )
    for row in rows:
        row["row_url"] = urls.row("gaps", page, row["seq"])
        row["tag_url"] = urls.row("gap_tags", row["tag"]) if row["known_tag"] else None
        row["footnotes"] = json_list(row["footnotes"])
    return rows


def page_relations(conn, page: str, urls: RowUrls, titles: dict) -> dict:
    """Typed edges from the page, typed edges to it, and the pages whose
    text links to it ('what links here')."""
    outgoing = fetch_rows(
        conn,
        "select field, position, target, target_page from relations where page = ? order by field, position",
        [page],
    )
    for row in outgoing:
        row["row_url"] = urls.row("relations", page, row["field"], row["position"])
        row["target_link"] = page_link(urls, row["target_page"], titles.get(row["target_page"]))
    incoming = fetch_rows(
        conn, "select page, field, position from relations where target_page = ? order by page, field, position", [page]
    )
    incoming_total, incoming = len(incoming), incoming[:LONG_LIST]
    for row in incoming:
        row["row_url"] = urls.row("relations", row["page"], row["field"], row["position"])
        row["page_url"] = urls.row("pages", row["page"])
        row["title"] = titles.get(row["page"], row["page"])
    backlinks = fetch_rows(
        conn,
        """select page, count(*) as links, min(seq) as first_seq from links
        where target_page = ? and page != ? group by page order by links desc, page""",
        [page, page],
    )
    backlinks_total, backlinks = len(backlinks), backlinks[:LONG_LIST]
    links_here = urls.table("links", target_page=page) + "&page="
    for row in backlinks:
        row["title"] = titles.get(row["page"], row["page"])
        row["page_url"] = urls.row("pages", row["page"])
        row["row_url"] = urls.row("links", row["page"], row["first_seq"])
        row["links_url"] = links_here + quote_plus(row["page"])
    return {
        "outgoing": outgoing,
        "incoming": incoming,
        "incoming_total": incoming_total,
        "incoming_url": urls.table("relations", target_page=page),
        "backlinks": backlinks,
        "backlinks_total": backlinks_total,
        "backlinks_url": urls.table("links", target_page=page, _facet="page"),
    }


FACTS_PER_COMMIT = 12  # a commit's changes to one page listed under it; the rest are linked


def page_history(conn, page: str, urls: RowUrls) -> dict:
    """The commits that touched the page, newest first (filled by `etl
    history`), each with the first changes to the page's facts. A section's
    text changes with any edit in it, so sections are counted, not listed."""
    commits = fetch_rows(
        conn,
        """select h.commit_hash, h.day, h.change, h.rows_added, h.rows_removed, h.rows_changed, h.gaps_opened,
            h.gaps_closed, h.gaps_changed, c.subject, c.seq from page_history h join commits c on c.hash = h.commit_hash
        where h.page = ? order by c.seq desc""",
        [page],
    )
    total = len(commits)
    commits = commits[:LONG_LIST]
    facts: dict[str, list[dict]] = {}
    counted: dict[str, int] = {}
    # The page's own facts first, links (the most numerous) last.
    for change in fetch_rows(
        conn,
        """select change, commit_hash, table_name, key, kind, [column], old_value, new_value from changes
            where page = ? and table_name != 'sections'
            order by case table_name when 'pages' then 0 when 'gaps' then 1 when 'status_assessments' then 2
              when 'footnotes' then 3 when 'identifiers' then 4 when 'links' then 6 else 5 end, change""",
        [page],
    ):
        counted[change["commit_hash"]] = counted.get(change["commit_hash"], 0) + 1
        listed = facts.setdefault(change["commit_hash"], [])
        if len(listed) < FACTS_PER_COMMIT:
            change["row_url"] = urls.row("changes", change["change"])
            change["what"] = change["key"][len(page) + 3 :] if change["key"].startswith(page + " · ") else change["key"]
            listed.append(change)
    for commit in commits:
        commit["commit_url"] = urls.row("commits", commit["commit_hash"])
        commit["facts"] = facts.get(commit["commit_hash"], [])
        commit["facts_total"] = counted.get(commit["commit_hash"], 0)
        commit["all_url"] = urls.table("changes", page=page, commit_hash=commit["commit_hash"])
    return {"history": commits, "history_total": total, "history_url": urls.table("page_history", page=page)}


def page_entity(conn, page: str, urls: RowUrls, titles: dict) -> dict | None:
    row = fetch_one(conn, PAGE_SQL, [page])
    if row is None:
        return None
    grade_tables = page_grades(conn, page, urls)
    return {
        "row": row,
        "has_verification": any(row[column] is not None for column in VERIFICATION_COLUMNS),
        "identifiers": page_identifiers(conn, page, urls),
        "grade_tables": grade_tables,
        "grade_count": sum(len(table["rows"]) for table in grade_tables),
        "trials": page_trials(conn, page, urls, titles),
        "footnotes": page_footnotes(conn, page, urls, titles),
        "gaps": page_gaps(conn, page, urls),
        **page_relations(conn, page, urls, titles),
        **page_history(conn, page, urls),
    }
