"""YAML with the YAML 1.2 rules, fast: what the project's data files and a
page's frontmatter are both read with. libyaml does the reading where it
is sure to agree with ruamel (tests/test_schema.py compares the two on
every file in data/); `fast_document` says when it is not, and the caller
reads the text with ruamel instead."""

from __future__ import annotations

import re

import yaml as _pyyaml

# libyaml (PyYAML's C parser) with the YAML 1.2 implicit-resolver rules
# ruamel applies, so yes/no/on stay text and 010 stays ten. Anything it is
# not sure about (parse/construct error, tabs, merge keys, tags, anchors)
# goes to ruamel, which stays the reference.

FAST_ENABLED = getattr(_pyyaml, "__with_libyaml__", False)
# Tabs, merge keys, explicit tags, anchors: ruamel rejects or has quirks.
# NEL, LS, PS, CR: line breaks to libyaml (YAML 1.1) but not to ruamel (1.2).
# A quote glued to ':' ("x":1, ["x":]): libyaml reads a flow pair, ruamel rejects.
FAST_GUARD = re.compile("[\t\r\x85\u2028\u2029]|<<|!!|(?:^|[\\s\\[{,])&\\S|[\"']:(?![ \t])", re.M)


class Yaml12CLoader(getattr(_pyyaml, "CSafeLoader", _pyyaml.SafeLoader)):
    pass


Yaml12CLoader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (
        "float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        list("-+0123456789."),
    ),
    (
        "int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        list("-+0123456789"),
    ),
    ("null", r"^(?: ~ |null|Null|NULL | )$", ["~", "n", "N", ""]),
    (
        "timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        list("0123456789"),
    ),
]:
    Yaml12CLoader.add_implicit_resolver("tag:yaml.org,2002:" + _tag, re.compile(_rx, re.X), _first)


def _int12(loader, node):
    s = loader.construct_scalar(node).replace("_", "")
    sign = -1 if s[0] == "-" else 1
    if s[0] in "+-":
        s = s[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if s.startswith(prefix):
            return sign * int(s[2:], base)
    return sign * int(s)  # YAML 1.2: a leading zero is still decimal


def _float12(loader, node):
    s = loader.construct_scalar(node).replace("_", "").lower()
    sign = -1 if s[0] == "-" else 1
    if s[0] in "+-":
        s = s[1:]
    if s == ".inf":
        return sign * float("inf")
    if s == ".nan":
        return float("nan")
    return sign * float(s)


def _mapping_no_duplicates(loader, node, deep=False):
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:  # ruamel raises here; let it produce the message
            raise _pyyaml.constructor.ConstructorError(None, None, "duplicate key", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


Yaml12CLoader.add_constructor("tag:yaml.org,2002:int", _int12)
Yaml12CLoader.add_constructor("tag:yaml.org,2002:float", _float12)
Yaml12CLoader.construct_mapping = _mapping_no_duplicates


def fast_document(text: str):
    """(True, the document's data) from libyaml with the YAML 1.2 rules, or
    (False, None) when the fast path is not sure and ruamel must read it."""
    if not FAST_ENABLED or FAST_GUARD.search(text):
        return False, None
    loader = Yaml12CLoader(text)
    try:
        return True, loader.get_single_data()
    except (_pyyaml.YAMLError, ValueError, TypeError):
        return False, None
    finally:
        loader.dispose()
