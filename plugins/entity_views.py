"""Serve stage: row pages that read like a page.

A reader lands on the row of a page, a work, a trial or a gap tag. Each of
these row pages shows what the row is about, gathered from the tables that
point at it: a page's verification block, identifiers, evidence grades,
trials, footnotes, gaps, relations and backlinks; a work's citing pages; a
trial's mentions, arms and outcomes; a gap tag's open claims. Every item
carries the URL of its own row.

The query functions are plain functions of an SQLite connection, run on
Datasette's query thread with one hop per page; the templates
(templates/row-agingkb-<table>.html) escape everything they show.
"""

from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import quote_plus, urlencode

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode

DATABASE = "agingkb"
CLAIMS_PER_SCREEN = 100  # a gap tag's claims, shown a screenful at a time
# A hub page is the target of hundreds of links: its lists show the first
# LONG_LIST items and link to the whole list in the table view.
LONG_LIST = 100
FOOTNOTE_SCHEMES = ("doi", "pmid", "pmc")
# Keys repeat across the items of a page (hundreds of backlinks from the
# same few pages): encoding them once keeps a hub page's URLs cheap.
encode_key = lru_cache(maxsize=100_000)(tilde_encode)


class RowUrls:
    """URLs of rows and filtered tables under the database's URL."""

    def __init__(self, database_url: str):
        self.base = database_url.rstrip("/")

    def row(self, table: str, *key) -> str:
        return f"{self.base}/{table}/" + ",".join(encode_key(str(part)) for part in key)

    def table(self, table: str, **filters) -> str:
        query = urlencode({name: value for name, value in filters.items() if value is not None})
        return f"{self.base}/{table}" + (f"?{query}" if query else "")


def _rows(conn, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def _one(conn, sql: str, params=()) -> dict | None:
    found = _rows(conn, sql, params)
    return found[0] if found else None


def _json_list(value) -> list:
    try:
        parsed = json.loads(value) if value else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def resolver_templates(conn) -> dict[str, dict]:
    """scheme -> {label, url_template}, from the identifier_schemes table."""
    return {r["scheme"]: r for r in _rows(conn, "select scheme, label, url_template from identifier_schemes")}


def resolver_link(templates: dict, scheme: str, value) -> dict | None:
    """{scheme label, value, url} for an identifier, as the build derives
    identifiers.url: the scheme's template with {id} replaced."""
    if not value or scheme not in templates:
        return None
    template = templates[scheme]
    return {
        "scheme": scheme,
        "label": template["label"],
        "value": value,
        "url": template["url_template"].replace("{id}", str(value)),
    }


def _page_link(urls: RowUrls, page, title=None) -> dict | None:
    return {"page": page, "title": title or page, "url": urls.row("pages", page)} if page else None


# --- a page -------------------------------------------------------------------


PAGE_SQL = """select page, title, type, folder, verified, verified_date, verified_by, verified_scope,
  literature_checked_through, is_stub, banner, word_count, footnote_count, gap_count from pages where page = ?"""
VERIFICATION_COLUMNS = ("verified", "verified_date", "verified_by", "verified_scope", "literature_checked_through")


def page_identifiers(conn, page: str, urls: RowUrls) -> list[dict]:
    """The page's own identifiers (frontmatter and prose); those in citation
    records are shown with their footnotes."""
    rows = _rows(
        conn,
        """select i.field, i.position, i.scheme, s.label as scheme_label, i.value, i.raw, i.declared_null, i.valid, i.url
        from identifiers i left join identifier_schemes s on s.scheme = i.scheme
        where i.page = ? and i.field not like 'footnote:%' order by i.field, i.position""",
        [page],
    )
    for row in rows:
        row["row_url"] = urls.row("identifiers", page, row["field"], row["position"])
    return rows


def page_grades(conn, page: str, urls: RowUrls) -> list[dict]:
    rows = _rows(
        conn,
        """select a.table_seq, a.row, a.dimension, a.dimension_text, a.status, a.status_text, a.qualifier, a.notes, a.section
        from status_assessments a where a.page = ? order by a.table_seq, a.row""",
        [page],
    )
    for row in rows:
        row["row_url"] = urls.row("status_assessments", page, row["table_seq"], row["row"])
    return rows


def trial_name(trial: dict) -> str:
    """How a trial is named to a reader: acronym, title, the label of the
    work reporting it, else its key."""
    return trial.get("acronym") or trial.get("title") or trial.get("work_label") or trial["trial"]


def outcome_rows(conn, trials: list[str], urls: RowUrls, titles: dict) -> dict[str, list[dict]]:
    """trial -> its outcomes in order, each with its row URL."""
    if not trials:
        return {}
    marks = ", ".join("?" for _ in trials)
    found: dict[str, list[dict]] = {trial: [] for trial in trials}
    for row in _rows(
        conn,
        f"""select trial, seq, measure, role, comparison, effect_metric, effect_value, effect_unit, effect_raw,
            direction, arm_raw, ci_raw, p_raw, page from trial_outcomes where trial in ({marks}) order by trial, seq""",
        trials,
    ):
        row["row_url"] = urls.row("trial_outcomes", row["trial"], row["seq"])
        row["page_url"] = urls.row("pages", row["page"])
        row["page_title"] = titles.get(row["page"], row["page"])
        # An 'A vs B' comparison is the effect itself when no effect number is given.
        row["effect_text"] = row["effect_raw"] or row["arm_raw"] or row["direction"] or ""
        row["versus"] = row["comparison"] if row["comparison"] and row["comparison"] not in row["effect_text"] else None
        found[row["trial"]].append(row)
    return found


def page_trials(conn, page: str, urls: RowUrls, titles: dict) -> list[dict]:
    """Trials the page mentions, with every outcome recorded for them."""
    trials = _rows(
        conn,
        """select t.trial, t.acronym, t.title, w.label as work_label, t.registry_id, t.design, t.randomised, t.blinding, t.phase, t.n_randomised,
            t.intervention, t.comparator, t.condition, t.needs_replication, group_concat(distinct m.kind) as kinds
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


def page_footnotes(conn, page: str, urls: RowUrls, templates: dict, titles: dict) -> list[dict]:
    rows = _rows(
        conn,
        """select f.seq, f.label, f.record, f.work, w.label as work_label, f.doi, f.pmid, f.pmc, f.study_page,
            f.authors, f.title, f.venue, f.venue_id, f.year, f.design, f.n, f.p_value_text, f.model,
            f.retracted, f.citation_count, f.ref_count, f.duplicate, f.parse_status
        from footnotes f left join works w on w.work = f.work where f.page = ? order by f.seq""",
        [page],
    )
    for row in rows:
        row["row_url"] = urls.row("footnotes", page, row["seq"])
        row["work_url"] = urls.row("works", row["work"]) if row["work"] else None
        row["study"] = _page_link(urls, row["study_page"], titles.get(row["study_page"]))
        row["resolvers"] = [
            link for scheme in FOOTNOTE_SCHEMES if (link := resolver_link(templates, scheme, row[scheme]))
        ]
    return rows


def page_gaps(conn, page: str, urls: RowUrls) -> list[dict]:
    rows = _rows(
        conn,
        """select g.seq, g.tag, t.tag as known_tag, g.claim, g.qualifier, g.location, g.field, g.section, g.footnotes
        from gaps g left join gap_tags t on t.tag = g.tag where g.page = ? order by g.seq""",
        [page],
    )
    for row in rows:
        row["row_url"] = urls.row("gaps", page, row["seq"])
        row["tag_url"] = urls.row("gap_tags", row["tag"]) if row["known_tag"] else None
        row["footnotes"] = _json_list(row["footnotes"])
    return rows


def page_relations(conn, page: str, urls: RowUrls, titles: dict) -> dict:
    """Typed edges from the page, typed edges to it, and the pages whose
    text links to it ('what links here')."""
    outgoing = _rows(
        conn,
        "select field, position, target, target_page from relations where page = ? order by field, position",
        [page],
    )
    for row in outgoing:
        row["row_url"] = urls.row("relations", page, row["field"], row["position"])
        row["target_link"] = _page_link(urls, row["target_page"], titles.get(row["target_page"]))
    incoming = _rows(
        conn, "select page, field, position from relations where target_page = ? order by page, field, position", [page]
    )
    incoming_total, incoming = len(incoming), incoming[:LONG_LIST]
    for row in incoming:
        row["row_url"] = urls.row("relations", row["page"], row["field"], row["position"])
        row["page_url"] = urls.row("pages", row["page"])
        row["title"] = titles.get(row["page"], row["page"])
    backlinks = _rows(
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
    commits = _rows(
        conn,
        """select h.commit_hash, h.day, h.change, h.rows_added, h.rows_removed, h.rows_changed, h.gaps_opened, h.gaps_closed,
            c.subject, c.seq from page_history h join commits c on c.hash = h.commit_hash where h.page = ? order by c.seq desc""",
        [page],
    )
    total = len(commits)
    commits = commits[:LONG_LIST]
    facts: dict[str, list[dict]] = {}
    counted: dict[str, int] = {}
    # The page's own facts first, links (the most numerous) last.
    for change in _rows(
        conn,
        """select change, commit_hash, table_name, key, kind, [column], old_value, new_value from changes
            where page = ? and table_name != 'sections'
            order by case table_name when 'pages' then 0 when 'gaps' then 1 when 'status_assessments' then 2 when 'footnotes' then 3
              when 'identifiers' then 4 when 'links' then 6 else 5 end, change""",
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
    row = _one(conn, PAGE_SQL, [page])
    if row is None:
        return None
    templates = resolver_templates(conn)
    return {
        "row": row,
        "has_verification": any(row[column] is not None for column in VERIFICATION_COLUMNS),
        "identifiers": page_identifiers(conn, page, urls),
        "grades": page_grades(conn, page, urls),
        "trials": page_trials(conn, page, urls, titles),
        "footnotes": page_footnotes(conn, page, urls, templates, titles),
        "gaps": page_gaps(conn, page, urls),
        **page_relations(conn, page, urls, titles),
        **page_history(conn, page, urls),
    }


# --- a work -------------------------------------------------------------------


def work_entity(conn, work: str, urls: RowUrls, titles: dict) -> dict | None:
    row = _one(
        conn,
        "select w.*, v.name as venue_name from works w left join venues v on v.venue = w.venue_id where w.work = ?",
        [work],
    )
    if row is None:
        return None
    templates = resolver_templates(conn)
    authors = _rows(conn, "select position, author from work_authors where work = ? order by position", [work])
    for author in authors:
        author["row_url"] = urls.row("work_authors", work, author["position"])
    citing = _rows(
        conn, "select page, seq, label, ref_count, duplicate from footnotes where work = ? order by page, seq", [work]
    )
    for cite in citing:
        cite["title"] = titles.get(cite["page"], cite["page"])
        cite["page_url"] = urls.row("pages", cite["page"])
        cite["row_url"] = urls.row("footnotes", cite["page"], cite["seq"])
    trials = _rows(
        conn,
        "select trial, acronym, title, registry_id, n_randomised, design from trials where work = ? order by trial",
        [work],
    )
    for trial in trials:
        trial["name"] = trial_name(trial)
        trial["row_url"] = urls.row("trials", trial["trial"])
    records = _rows(conn, "select record, title from bibliography where work = ? order by record", [work])
    for record in records:
        record["row_url"] = urls.row("bibliography", record["record"])
    return {
        "row": row,
        "resolvers": [
            link for scheme in ("doi", "pmid", "pmc", "isbn") if (link := resolver_link(templates, scheme, row[scheme]))
        ],
        "venue_url": urls.row("venues", row["venue_id"]) if row["venue_id"] else None,
        "study": _page_link(urls, row["study_page"], titles.get(row["study_page"])),
        "authors": authors,
        "citing": citing,
        "citing_pages": len({cite["page"] for cite in citing}),
        "trials": trials,
        "bibliography": records,
    }


# --- a trial ------------------------------------------------------------------


def trial_entity(conn, trial: str, urls: RowUrls, titles: dict) -> dict | None:
    row = _one(
        conn,
        "select t.*, w.label as work_label from trials t left join works w on w.work = t.work where t.trial = ?",
        [trial],
    )
    if row is None:
        return None
    templates = resolver_templates(conn)
    mentions = _rows(
        conn,
        """select m.seq, m.page, m.kind, m.label, m.text, m.registry_id, m.work, m.gap_tags,
            (select f.seq from footnotes f where f.page = m.page and f.label = m.label order by f.duplicate, f.seq limit 1) as footnote_seq
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
        mention["gap_tags"] = _json_list(mention["gap_tags"])
    arms = _rows(
        conn,
        "select seq, label, n_randomised, n_completed, origin from trial_arms where trial = ? order by seq",
        [trial],
    )
    for arm in arms:
        arm["row_url"] = urls.row("trial_arms", trial, arm["seq"])
    return {
        "row": row,
        "name": trial_name(row),
        "registry": resolver_link(templates, "nct", row["registry_id"]),
        "work_url": urls.row("works", row["work"]) if row["work"] else None,
        "study": _page_link(urls, row["study_page"], titles.get(row["study_page"])),
        "intervention": _page_link(urls, row["intervention_page"], titles.get(row["intervention_page"])),
        "gap_tags": [{"tag": tag, "url": urls.row("gap_tags", tag)} for tag in _json_list(row["gap_tags"])],
        "mentions": mentions,
        "arms": arms,
        "outcomes": outcome_rows(conn, [trial], urls, titles)[trial],
    }


# --- a gap tag ----------------------------------------------------------------


def gap_tag_entity(conn, tag: str, urls: RowUrls, titles: dict, start: int = 0) -> dict | None:
    """A tag's definition and its open claims, CLAIMS_PER_SCREEN at a time
    from `start`, with how many each page carries."""
    row = _one(conn, "select tag, definition, origin, declared from gap_tags where tag = ?", [tag])
    if row is None:
        return None
    pages = _rows(
        conn, "select page, count(*) as claims from gaps where tag = ? group by page order by claims desc, page", [tag]
    )
    total, pages_total, pages = sum(page["claims"] for page in pages), len(pages), pages[:LONG_LIST]
    tagged = urls.table("gaps", tag=tag) + "&page="
    for page in pages:
        page["title"] = titles.get(page["page"], page["page"])
        page["page_url"] = urls.row("pages", page["page"])
        page["gaps_url"] = tagged + quote_plus(page["page"])
    start = min(max(start, 0), max(total - 1, 0))
    claims = _rows(
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


def page_titles(conn) -> dict[str, str]:
    """page -> title. Page rows hold whole bodies, so a join to pages for
    each listed item costs a row read each; the database is immutable, so
    the map is read once per server."""
    return dict(conn.execute("select page, title from pages").fetchall())


async def _titles(datasette) -> dict[str, str]:
    cached = getattr(datasette, "_agingkb_titles", None)
    if cached is None:
        cached = datasette._agingkb_titles = await datasette.get_database(DATABASE).execute_fn(page_titles)
    return cached


@hookimpl
def startup(datasette):
    async def read_titles():
        if DATABASE in datasette.databases:
            await _titles(datasette)

    return read_titles


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    if view_name != "row" or database != DATABASE or table not in ENTITIES or request is None:
        return None

    async def variables():
        key = tilde_decode(request.url_vars.get("pks", ""))
        urls = RowUrls(datasette.urls.database(DATABASE))
        titles = await _titles(datasette)
        gather = ENTITIES[table]
        entity = await datasette.get_database(DATABASE).execute_fn(
            lambda conn: gather(conn, key, urls, titles, request)
        )
        return {"entity": entity, "shown_foreign_key_tables": shown_foreign_key_tables}

    return variables
