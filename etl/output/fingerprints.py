"""What frictionless's verdict on each resource depends on (its
fingerprint), and from two builds' fingerprints which resources changed
and which must be validated again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..wiki.discover import file_sha256


def resource_fingerprints(descriptor: dict, directory: Path, key_digests: dict[str, str]) -> dict:
    """Per resource, what frictionless's verdict on it depends on: its bytes,
    its descriptor and, through its foreign keys, the primary keys of the
    resources it points to (whose digests the CSV writer kept)."""
    from importlib.metadata import version

    resources = {}
    for resource in descriptor["resources"]:
        resources[resource["name"]] = {
            "bytes": file_sha256(directory / resource["path"]),
            "descriptor": hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest(),
            "keys": key_digests.get(resource["name"], ""),
        }
    return {"frictionless": version("frictionless"), "resources": resources}


def changed_resources(previous: dict, current: dict) -> set[str]:
    """Resources whose bytes or descriptor differ from the previous build's."""
    old = previous.get("resources", {})
    return {
        name
        for name, now in current["resources"].items()
        if name not in old or (old[name].get("bytes"), old[name].get("descriptor")) != (now["bytes"], now["descriptor"])
    }


def resources_to_validate(descriptor: dict, current: dict, previous: dict | None) -> list[str]:
    """The resources whose verdict may differ from the last valid build's.
    All of them unless the same frictionless validated that build; else each
    resource whose bytes or descriptor changed, or with a foreign key to a
    resource whose descriptor or primary keys changed. A resource left out
    would get the verdict it got then: valid."""
    names = [resource["name"] for resource in descriptor["resources"]]
    if not previous or previous.get("frictionless") != current["frictionless"]:
        return names
    old, new = previous.get("resources", {}), current["resources"]

    def same(name: str, *parts: str) -> bool:
        return name in old and name in new and all(old[name].get(part) == new[name][part] for part in parts)

    changed = []
    for resource in descriptor["resources"]:
        name = resource["name"]
        targets = {fk["reference"]["resource"] or name for fk in resource.get("schema", {}).get("foreignKeys", [])}
        if not same(name, "bytes", "descriptor") or not all(same(target, "descriptor", "keys") for target in targets):
            changed.append(name)
    return changed
