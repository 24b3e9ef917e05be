"""Release stage: how a release is cited and archived. CITATION.cff (the
Citation File Format 1.2.0, checked with `cffconvert --validate`) and
.zenodo.json (the metadata of a Zenodo deposit, so that an archive of the
release gets its creators, licence, version and the wiki commit it derives
from).

What they say comes from the declarations, never from here: the title,
description and keywords are the package's (data/site.yml `package`), the
authors and the DOI the `citation` entry of data/site.yml's plugins (the
site reads the same entry for the home page), the wiki's repository and
licence data/sources.yml, the version and snapshot the build. A DOI is
written only when one is configured.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

from ..schema import DATA_DIR, load_yaml
from ..wiki.provenance import commit_statement

# The pattern CITATION.cff's schema gives a DOI (schema.json, definitions.doi).
DOI = re.compile(r"^10\.\d{4,9}(\.\d+)?/[A-Za-z0-9:/_;\-\.\(\)\[\]\\]+$")
# Zenodo's licence ids are SPDX ids in lower case (cc-by-4.0).
MESSAGE = "If you use this dataset, please cite it as below."


class CitationError(Exception):
    """The citation declaration cannot be written as it stands."""


def release_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.date().isoformat()


def citation_facts(data_dir: Path = DATA_DIR) -> dict:
    """Title, description, keywords, licence, authors, DOI and the wiki's
    repository, from data/site.yml and data/sources.yml; a CitationError
    for a configured DOI that is not one."""
    site = load_yaml(data_dir / "site.yml")
    upstream = load_yaml(data_dir / "sources.yml")["upstream"]
    declared = (site.get("plugins") or {}).get("citation") or {}
    doi = str(declared.get("doi") or "").strip()
    if doi and not DOI.match(doi):
        raise CitationError(
            f"data/site.yml plugins.citation.doi {doi!r} is not a DOI (10.NNNN/suffix, without https://doi.org/)"
        )
    authors = [dict(author) for author in declared.get("authors") or []]
    if not authors:
        raise CitationError("data/site.yml plugins.citation.authors is empty: a citation needs its authors")
    return {
        "title": site["package"]["title"],
        "description": " ".join(site["package"]["description"].split()),
        "keywords": list(site["package"]["keywords"]),
        "license": upstream["license"],
        "authors": authors,
        "doi": doi,
        "repository": upstream["repository"],
    }


def _dump(data: dict) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    stream = StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def citation_cff(version: str, summary: dict, data_dir: Path = DATA_DIR) -> str:
    """CITATION.cff of a release: the dataset at this version, the snapshot
    it was built from and the commit of the wiki, with how that is known."""
    facts = citation_facts(data_dir)
    snapshot = summary["snapshot"]
    commit = commit_statement(snapshot, digits=40)  # the full commit, and whether anything checked it
    repository = snapshot.get("upstream_repository") or facts["repository"]
    identifiers = [
        {
            "type": "other",
            "value": snapshot["snapshot"],
            "description": "Snapshot of the wiki the release was built from" + (f" ({commit})" if commit else ""),
        }
    ]
    if snapshot.get("upstream_commit"):
        identifiers.append(
            {
                "type": "url",
                "value": f"{repository}/tree/{snapshot['upstream_commit']}",
                "description": "The wiki at the commit the release was built from",
            }
        )
    data = {
        "cff-version": "1.2.0",
        "message": MESSAGE,
        "type": "dataset",
        "title": facts["title"],
        "abstract": facts["description"],
        "version": version,
        "date-released": release_date(),
        "license": facts["license"],
        "authors": facts["authors"],
        "repository": repository,
        "keywords": facts["keywords"],
    }
    if facts["doi"]:
        data["doi"] = facts["doi"]
        identifiers.insert(1, {"type": "doi", "value": facts["doi"], "description": "The dataset's DOI"})
    data["identifiers"] = identifiers
    return _dump(data)


def zenodo_name(author: dict) -> str:
    """Zenodo's creator name: 'Family, Given' for a person, else the entity's name."""
    if author.get("family-names"):
        return ", ".join(part for part in (author["family-names"], author.get("given-names")) if part)
    return author["name"]


def zenodo_json(version: str, summary: dict, data_dir: Path = DATA_DIR) -> str:
    """.zenodo.json: the deposit metadata Zenodo reads from a release
    (its legacy deposit API's fields), derived from the wiki's repository
    and the commit the release was built from."""
    facts = citation_facts(data_dir)
    snapshot = summary["snapshot"]
    repository = snapshot.get("upstream_repository") or facts["repository"]
    related = [{"identifier": repository, "relation": "isDerivedFrom", "scheme": "url"}]
    if snapshot.get("upstream_commit"):
        related.append(
            {
                "identifier": f"{repository}/tree/{snapshot['upstream_commit']}",
                "relation": "isDerivedFrom",
                "scheme": "url",
            }
        )
    if facts["doi"]:
        # The configured DOI names the dataset across versions; this deposit is one version of it.
        related.append({"identifier": facts["doi"], "relation": "isVersionOf", "scheme": "doi"})
    commit = commit_statement(snapshot, digits=40)
    notes = f"Built from snapshot {snapshot['snapshot']} of {repository}" + (f", {commit}" if commit else "") + "."
    data = {
        "upload_type": "dataset",
        "title": facts["title"],
        "creators": [{"name": zenodo_name(author)} for author in facts["authors"]],
        "description": facts["description"],
        "access_right": "open",
        "license": facts["license"].lower(),
        "version": version,
        "publication_date": release_date(),
        "keywords": facts["keywords"],
        "notes": notes,
        "related_identifiers": related,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
