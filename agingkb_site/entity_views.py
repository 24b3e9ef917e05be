"""Serve stage: row pages that read like a page.

A reader lands on the row of a page, a work, a trial or a gap tag. Each of
these row pages shows what the row is about, gathered from the tables that
point at it: a page's verification block, identifiers, evidence grades,
trials, footnotes, gaps, relations and backlinks (page_view.py), and its
body rendered (page_body.py); a work's citing pages; a trial's mentions,
arms and outcomes; a gap tag's open claims. Every item carries the URL of
its own row, and every identifier the URL the build stored for it.

The templates (templates/row-agingkb-<table>.html) escape everything they show.
"""

from __future__ import annotations

from urllib.parse import quote_plus

from datasette import hookimpl
from datasette.utils import tilde_decode

from .names import DATABASE
from .page_body import rendered_body
from .page_view import LONG_LIST, page_entity
from .queries import (
    IdentifierLinks,
    RowUrls,
    cached_titles,
    fetch_one,
    fetch_rows,
    json_list,
    outcome_rows,
    page_link,
    trial_name,
)

CLAIMS_PER_SCREEN = 100  # a gap tag's claims, shown a screenful at a time
WORK_SCHEMES = ("doi", "pmid", "pmc", "isbn")


# --- a work -------------------------------------------------------------------


def work_entity(conn, work: str, urls: RowUrls, titles: dict) -> dict | None:
    row = fetch_one(
        conn,
        "select w.*, v.name as venue_name from works w left join venues v on v.venue = w.venue_id where w.work = ?",
        [work],
    )
    if row is None:
        return None
    authors = fetch_rows(conn, "select position, author from work_authors where work = ? order by position", [work])
    for author in authors:
        author["row_url"] = urls.row("work_authors", work, author["position"])
    citing = fetch_rows(
        conn, "select page, seq, label, ref_count, duplicate from footnotes where work = ? order by page, seq", [work]
    )
    for cite in citing:
        cite["title"] = titles.get(cite["page"], cite["page"])
        cite["page_url"] = urls.row("pages", cite["page"])
        cite["row_url"] = urls.row("footnotes", cite["page"], cite["seq"])
    trials = fetch_rows(
        conn,
        "select trial, acronym, title, registry_id, n_randomised, design from trials where work = ? order by trial",
        [work],
    )
    for trial in trials:
        trial["name"] = trial_name(trial)
        trial["row_url"] = urls.row("trials", trial["trial"])
    records = fetch_rows(conn, "select record, title from bibliography where work = ? order by record", [work])
    for record in records:
        record["row_url"] = urls.row("bibliography", record["record"])
    # The pages citing the work hold its identifiers, and their URLs.
    identifiers = IdentifierLinks(conn, [cite["page"] for cite in citing] + [row["study_page"]])
    return {
        "row": row,
        "resolvers": identifiers.links(row, WORK_SCHEMES),
        "venue_url": urls.row("venues", row["venue_id"]) if row["venue_id"] else None,
        "study": page_link(urls, row["study_page"], titles.get(row["study_page"])),
        "authors": authors,
        "citing": citing,
        "citing_pages": len({cite["page"] for cite in citing}),
        "trials": trials,
        "bibliography": records,
    }


# --- a trial ------------------------------------------------------------------


def trial_entity(conn, trial: str, urls: RowUrls, titles: dict) -> dict | None:
    row = fetch_one(
        conn,
        "select t.*, w.label as work_label from trials t left join works w on w.work = t.work where t.trial = ?",
        [trial],
    )
    if row is None:
        return None
    mentions = fetch_rows(
        conn,
        """select m.seq, m.page, m.kind, m.label, m.text, m.registry_id, m.work, m.gap_tags,
            (select f.seq from footnotes f where f.page = m.page and f.label = m.label
             order by f.duplicate, f.seq limit 1) as footnote_seq
        from trial_mentions m where m.trial = ? order by m.seq""",
        [trial],
    )
    for mention in mentions:
        mention["title"] = titles.get(mention["page"], mention["page"])
        mention["row_url"] = urls.row("trial_mentions", trial, mention["seq"])
        mention["page_url"] = urls.row("pages", mention["page"])
        mention["footnote_url"] = (
            urls.row("footnotes", mention["page"], mention["footnote_seq"]) if mention["footnote_seq"] else None
        )
        mention["gap_tags"] = json_list(mention["gap_tags"])
    arms = fetch_rows(
        conn,
        "select seq, label, n_randomised, n_completed, origin from trial_arms where trial = ? order by seq",
        [trial],
    )
    for arm in arms:
        arm["row_url"] = urls.row("trial_arms", trial, arm["seq"])
    identifiers = IdentifierLinks(conn, [mention["page"] for mention in mentions] + [row["study_page"]])
    return {
        "row": row,
        "name": trial_name(row),
        "registry": identifiers.link("nct", row["registry_id"]),
        "work_url": urls.row("works", row["work"]) if row["work"] else None,
        "study": page_link(urls, row["study_page"], titles.get(row["study_page"])),
        "intervention": page_link(urls, row["intervention_page"], titles.get(row["intervention_page"])),
        "gap_tags": [{"tag": tag, "url": urls.row("gap_tags", tag)} for tag in json_list(row["gap_tags"])],
        "mentions": mentions,
        "arms": arms,
        "outcomes": outcome_rows(conn, [trial], urls, titles)[trial],
    }


# --- a gap tag ----------------------------------------------------------------


def gap_tag_entity(conn, tag: str, urls: RowUrls, titles: dict, start: int = 0) -> dict | None:
    """A tag's definition and its open claims, CLAIMS_PER_SCREEN at a time
    from `start`, with how many each page carries."""
    row = fetch_one(conn, "select tag, definition, origin, declared from gap_tags where tag = ?", [tag])
    if row is None:
        return None
    pages = fetch_rows(
        conn, "select page, count(*) as claims from gaps where tag = ? group by page order by claims desc, page", [tag]
    )
    total, pages_total, pages = sum(page["claims"] for page in pages), len(pages), pages[:LONG_LIST]
    tagged = urls.table("gaps", tag=tag) + "&page="
    for page in pages:
        page["title"] = titles.get(page["page"], page["page"])
        page["page_url"] = urls.row("pages", page["page"])
        page["gaps_url"] = tagged + quote_plus(page["page"])
    start = min(max(start, 0), max(total - 1, 0))
    claims = fetch_rows(
        conn,
        """select page, seq, claim, qualifier, location, field, section from gaps
        where tag = ? order by page, seq limit ? offset ?""",
        [tag, CLAIMS_PER_SCREEN, start],
    )
    for claim in claims:
        claim["title"] = titles.get(claim["page"], claim["page"])
        claim["row_url"] = urls.row("gaps", claim["page"], claim["seq"])
        claim["page_url"] = urls.row("pages", claim["page"])
    end = start + len(claims)
    return {
        "row": row,
        "pages": pages,
        "pages_total": pages_total,
        "pages_url": urls.table("gaps", tag=tag, _facet="page"),
        "total": total,
        "claims": claims,
        "first": start + 1 if claims else 0,
        "last": end,
        "previous_start": max(start - CLAIMS_PER_SCREEN, 0) if start > 0 else None,
        "next_start": end if end < total else None,
        "gaps_url": urls.table("gaps", tag=tag),
    }


# --- the hook -----------------------------------------------------------------


def _start(request) -> int:
    try:
        return int(request.args.get("claims_from", "0"))
    except ValueError:
        return 0


ENTITIES = {
    "pages": lambda conn, key, urls, titles, request: page_entity(conn, key, urls, titles),
    "works": lambda conn, key, urls, titles, request: work_entity(conn, key, urls, titles),
    "trials": lambda conn, key, urls, titles, request: trial_entity(conn, key, urls, titles),
    "gap_tags": lambda conn, key, urls, titles, request: gap_tag_entity(conn, key, urls, titles, _start(request)),
}


def shown_foreign_key_tables(foreign_key_tables) -> list[dict]:
    """Datasette's 'links from other tables', without the tables that have
    no row pointing here."""
    return [entry for entry in foreign_key_tables or [] if entry.get("count")]


@hookimpl
def startup(datasette):
    async def read_titles():
        if DATABASE in datasette.databases:
            await cached_titles(datasette)

    return read_titles


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    if view_name != "row" or database != DATABASE or table not in ENTITIES or request is None:
        return None

    async def variables():
        key = tilde_decode(request.url_vars.get("pks", ""))
        urls = RowUrls(datasette.urls.database(DATABASE))
        titles = await cached_titles(datasette)
        gather = ENTITIES[table]
        entity = await datasette.get_database(DATABASE).execute_fn(
            lambda conn: gather(conn, key, urls, titles, request)
        )
        found = {"entity": entity, "shown_foreign_key_tables": shown_foreign_key_tables}
        if table == "pages":
            found["rendered_body"] = await rendered_body(datasette, key)
        return found

    return variables
