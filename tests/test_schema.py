"""The one declaration: complete, consistent, and the generated files match it."""

from etl.release.docs import page_types_markdown, tables_markdown
from etl.release.metadata import render_metadata

from .conftest import ROOT


def test_every_table_and_column_is_described(schema):
    missing = [f"{t.name}.{c.name}" for t in schema.tables.values() for c in t.columns if not c.description.strip()]
    missing += [t.name for t in schema.tables.values() if not t.description.strip()]
    assert missing == []


def test_primary_and_foreign_keys_name_real_columns(schema):
    problems = []
    for table in schema.tables.values():
        problems += [f"{table.name}: pk {c}" for c in table.primary_key if c not in table.column_names]
        for fk in table.foreign_keys:
            problems += [f"{table.name}: fk {c}" for c in fk.fields if c not in table.column_names]
            if list(fk.reference) != schema.tables[fk.table].primary_key:
                problems.append(f"{table.name}: fk to {fk.table} does not reference its primary key")
    assert problems == []


def test_every_wiki_derived_table_carries_provenance(schema):
    """Each row names its file and line; the file leads to the snapshot.
    The history tables' rows name the commit they describe instead."""
    history = [t for t in schema.tables.values() if t.kind == "history"]
    assert sorted(t.name for t in history) == ["changes", "commits", "gap_events", "page_history"]
    assert all({"hash", "commit_hash"} & set(t.column_names) for t in history)
    for name in ("changes", "gap_events"):  # where the changed row, the gap's claim, was read
        assert {"source_path", "source_line"} <= set(schema.tables[name].column_names)
    derived = [
        t
        for t in schema.tables.values()
        if t.kind not in ("vocabulary", "history") and t.name not in ("snapshots", "source_files")
    ]
    assert [t.name for t in derived if not {"source_path", "source_line"} <= set(t.column_names)] == []
    assert [
        t.name
        for t in derived
        if ("source_path",) not in {fk.fields for fk in t.foreign_keys if fk.table == "source_files"}
    ] == []
    assert ("snapshot",) in {fk.fields for fk in schema.tables["source_files"].foreign_keys if fk.table == "snapshots"}
    # rows do not repeat the snapshot, so they change only when their own page does
    assert [t.name for t in derived if "snapshot" in t.column_names] == []


def test_page_types_declare_the_main_typed_tables(schema):
    assert {"protein", "compound", "study", "intervention", "pathway"} <= set(schema.typed_tables)
    assert schema.tables["proteins"].column("hgnc").pattern == "HGNC:[0-9]+"


def test_metadata_yml_is_generated_from_the_declaration():
    assert (ROOT / "metadata.yml").read_text(encoding="utf-8") == render_metadata(), "run `make metadata`"


def test_docs_are_generated_from_the_declaration(schema):
    assert (ROOT / "docs" / "page-types.md").read_text(encoding="utf-8") == page_types_markdown(schema), (
        "run `make docs`"
    )
    assert (ROOT / "docs" / "tables.md").read_text(encoding="utf-8") == tables_markdown(schema), "run `make docs`"


def test_metadata_describes_every_column(schema):
    from etl.release.metadata import datasette_metadata

    tables = datasette_metadata(schema)["databases"]["agingkb"]["tables"]
    for name, table in schema.tables.items():
        assert set(tables[name]["columns"]) == set(table.column_names), name


def test_data_files_load_as_ruamel_reads_them():
    """load_yaml takes libyaml's fast path; every file in data/ must give
    exactly what ruamel's YAML 1.2 loader gives (types included: repr tells
    True from 1 and 1.0 from 1)."""
    from ruamel.yaml import YAML

    from etl.schema import DATA_DIR
    from etl.yaml12 import fast_document

    files = sorted(DATA_DIR.glob("*.yml"))
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        sure, fast = fast_document(text)
        assert sure, f"{path.name}: the fast path declined it"
        assert repr(fast) == repr(YAML(typ="safe", pure=True).load(text)), path.name


def test_yaml_12_rules_on_the_fast_path():
    from etl.yaml12 import fast_document

    sure, data = fast_document("a: yes\nb: 010\nc: 0o10\nd: ~\ne: 2024-01-02\nf: 1_000\n")
    assert (
        sure and data["a"] == "yes" and data["b"] == 10 and data["c"] == 8 and data["d"] is None and data["f"] == 1000
    )
    assert fast_document("a:\n\t- tab\n") == (False, None)  # tabs go to ruamel
