"""No dead ends: from the home page of a served fixture build, follow every
same-site link to depth 2; every page answers 200 and shows no error.

Downloads (CSV, JSON, the database) and sort or pagination variants of a
page already queued are not followed. The pages visited are written to
test-artifacts/crawl.txt and printed on failure."""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx

from .conftest import ARTIFACTS

MAX_DEPTH = 2
DOWNLOAD = re.compile(r"\.(csv|json|db|zip|txt|tsv|yml|yaml)$|/-/static|/-/static-plugins")
VARIANT_PARAMS = {
    "_sort",
    "_sort_desc",
    "_next",
    "_facet_size",
    "_size",
    "_nocol",
    "_col",
    "_labels",
    "_nofacet",
    "_nosuggest",
    "_hide_sql",
    "_show_sql",
}
ERROR_MESSAGE = re.compile(
    r'class="message-error"|<h1>Invalid SQL</h1>|Traceback \(most recent call last\)|fts5: syntax error'
    r"|sqlite3\.\w+Error|Internal Server Error|<title>Error",
    re.I,
)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def page_key(url: str) -> str | None:
    """The URL to visit for a link, or None when it is not followed."""
    parts = urlsplit(url)
    if DOWNLOAD.search(parts.path) or "_format" in parts.query:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in VARIANT_PARAMS]
    return parts.path + ("?" + urlencode(sorted(query)) if query else "")


def crawl(base: str) -> tuple[list[tuple[int, str, int]], list[str]]:
    site = urlsplit(base).netloc
    seen, visited, problems = {"/"}, [], []
    queue = deque([("/", 0)])
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
        while queue:
            path, depth = queue.popleft()
            response = client.get(path)
            visited.append((depth, path, response.status_code))
            if response.status_code != 200:
                problems.append(f"{path}: HTTP {response.status_code}")
                continue
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            if ERROR_MESSAGE.search(response.text):
                problems.append(f"{path}: shows an error: {ERROR_MESSAGE.search(response.text).group(0)}")
            if depth == MAX_DEPTH:
                continue
            parser = Links()
            parser.feed(response.text)
            for href in parser.hrefs:
                absolute = urljoin(base + path, href.split("#", 1)[0])
                if (
                    not absolute
                    or urlsplit(absolute).netloc != site
                    or urlsplit(absolute).scheme not in ("http", "https")
                ):
                    continue
                key = page_key(absolute)
                if key and key not in seen:
                    seen.add(key)
                    queue.append((key, depth + 1))
    return visited, problems


def test_every_page_within_two_clicks_of_home_answers_without_error(fixture_url):
    visited, problems = crawl(fixture_url)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "crawl.txt").write_text("".join(f"{status} depth {depth} {path}\n" for depth, path, status in visited))
    print(f"crawled {len(visited)} pages to depth {MAX_DEPTH}; list in {ARTIFACTS / 'crawl.txt'}")
    assert len(visited) > 50 and any(depth == 2 for depth, _, _ in visited)
    assert problems == [], "\n".join(problems)


def test_the_crawler_notices_an_error_page(fixture_url):
    # The check above could pass by never looking: a known-bad page is caught.
    response = httpx.get(fixture_url + "/agingkb?sql=select+*+from+no_such_table")
    assert response.status_code == 400 and ERROR_MESSAGE.search(response.text)
