"""Loading datasets, on both backends: the bad-input corpus, partial loads, names, re-loads, Wenzhou.

Every corpus case is loaded on top of the mini dataset, so "nothing was written"
means the graph is exactly what it was before, node by node and relationship by
relationship.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import Workbook
from shared import MINI_NODES, MINI_RELATIONSHIPS, graph_state, wenzhou_rows, write_dataset

from graph_service.core.errors import DataError
from graph_service.core.ontology import NodeKind, RelType
from graph_service.core.store import GraphStore
from loaders.load import WENZHOU_DATASET, LoadReport, load_dataset
from loaders.manifest import read_manifest

DATA = Path(__file__).resolve().parent.parent / "data"
BAD = DATA / "bad"
DATASET = "<dataset>"
"""Stands for the dataset's own path in an expected error's file."""

WENZHOU_NODES = wenzhou_rows()["nodes"]
WENZHOU_RELATIONSHIPS = wenzhou_rows()["relationships"]


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


# -- the bad-input corpus ---------------------------------------------------------------


@dataclass(frozen=True)
class Err:
    """One expected problem: where exactly, and the words that say what is wrong."""

    file: str
    row: int | None
    column: str | None
    problem: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    """A bad dataset (``tests/data/bad/<name>``, or written by ``build``) and every error it must give."""

    name: str
    errors: tuple[Err, ...]
    build: Callable[[Path], Path] | None = field(default=None, compare=False)

    def path(self, tmp_path: Path) -> Path:
        return self.build(tmp_path) if self.build is not None else BAD / self.name


def e(file: str, row: int | None, column: str | None, *problem: str) -> Err:
    return Err(file, row, column, problem)


def xlsx_bad_row(tmp_path: Path) -> Path:
    header = ["id", "name", "name_zh", "level", "source", "evidence", "basis"]
    return write_workbook(
        tmp_path / "ecosystem.xlsx",
        {
            "README": [["anything"]],
            "sources": [["key", "title"], ["corpus", "innograph test corpus"]],
            "societies": [
                header,
                [
                    "society:csm",
                    "Chinese Society for Metals",
                    "中国金属学会",
                    "national",
                    "corpus",
                    "",
                    "stated",
                ],
                ["society:x", "Society X", None, "global", "corpus", "", "stated"],
            ],
            "relationships": [
                ["from", "type", "to", "source", "basis"],
                ["中国金属学会", "MEMBER_OF", "CAST", "corpus", "reference"],
            ],
        },
    )


def xlsx_without_sources(tmp_path: Path) -> Path:
    return write_workbook(
        tmp_path / "ecosystem.xlsx",
        {"societies": [["id", "name", "source", "basis"], ["society:x", "X", "corpus", "stated"]]},
    )


def xlsx_misspelt_sheets(tmp_path: Path) -> Path:
    societies = [["id", "name", "source", "basis"], ["society:x", "Society X", "corpus", "stated"]]
    return write_workbook(
        tmp_path / "ecosystem.xlsx",
        {
            "README": [["anything"]],
            "Notes": [["anything"]],
            "sources": [["key", "title"], ["corpus", "innograph test corpus"]],
            "Socieites": societies,
            "enterprise ": [["id", "name", "source", "basis"], ["enterprise:x", "X Co.", "corpus", "stated"]],
            "Relationship": [["from", "type", "to", "source", "basis"]],
            "societies": societies,
        },
    )


def xlsx_two_sheets_of_one_kind(tmp_path: Path) -> Path:
    societies = [["id", "name", "source", "basis"], ["society:x", "Society X", "corpus", "stated"]]
    return write_workbook(
        tmp_path / "ecosystem.xlsx",
        {
            "sources": [["key", "title"], ["corpus", "innograph test corpus"]],
            "societies": societies,
            "Societies ": societies,
        },
    )


def json_alias_with_separator(tmp_path: Path) -> Path:
    doc = [
        {"id": "society:a", "name": "A", "aliases": ["AS"], "source": "corpus", "basis": "stated"},
        {"id": "society:b", "name": "B", "aliases": ["BS", "R|D"], "source": "corpus", "basis": "stated"},
    ]
    return write_dataset(tmp_path / "json-alias", {"societies.json": json.dumps(doc)})


def undecodable(tmp_path: Path) -> Path:
    body = b"id,name,source,basis\nsociety:x,\xff\xfe Society,corpus,stated\n"
    return write_dataset(tmp_path / "undecodable", {"societies.csv": body})


def json_row_error(tmp_path: Path) -> Path:
    doc = [
        {"id": "society:csm", "name": "Chinese Society for Metals", "source": "corpus", "basis": "stated"},
        {"id": "society:x", "name": "X", "level": "global", "source": "corpus", "basis": "stated"},
    ]
    return write_dataset(tmp_path / "json-row-error", {"societies.json": json.dumps(doc)})


LEVELS = "'national', 'provincial' or 'city'"
CORPUS = [
    Case("missing-required-column", (e("societies.csv", 2, "name", "Field required"),)),
    Case(
        "missing-basis-column",
        (e("relationships.csv", 2, "basis", "is required: stated, inferred or reference"),),
    ),
    Case("missing-basis", (e("societies.csv", 2, "basis", "is required: stated, inferred or reference"),)),
    Case("missing-required-relationship-cell", (e("relationships.csv", 2, "to", "is required"),)),
    Case("wrong-type", (e("parks.csv", 2, "companies", "valid integer"),)),
    Case("bad-enum", (e("societies.csv", 2, "level", "'global' is not allowed", LEVELS),)),
    Case(
        "wrong-id-prefix",
        (e("societies.csv", 2, "id", "id 'industry:metals' does not start with 'society:'"),),
    ),
    Case(
        "duplicate-id",
        (e("societies.csv", 3, "id", "duplicate id 'society:csm', first at societies.csv, row 2"),),
    ),
    Case(
        "unknown-kind-in-manifest",
        (
            e(
                "dataset.toml",
                None,
                "files.Gadget",
                "unknown kind; known: Agreement, Enterprise, Industry, Organization, Park, Program, "
                "Region, Society, Talent, relationships",
            ),
        ),
    ),
    Case(
        "unknown-column",
        (
            e(
                "societies.csv",
                1,
                "website",
                "is not a column of societies (Society); allowed: id, name, name_zh, aliases, description, "
                "since, until, source, evidence, basis, discipline, level, cast_code",
            ),
        ),
    ),
    Case(
        "unknown-relationship-type",
        (e("relationships.csv", 2, "type", "'FUNDS' is not a relationship type; known: SERVES, PARTY_TO"),),
    ),
    Case(
        "unknown-endpoint",
        (
            e(
                "relationships.csv",
                2,
                "from",
                "no node has the id 'society:csm'; did you mean 'society:csme'",
            ),
        ),
    ),
    Case(
        "unknown-endpoint-name",
        (
            e(
                "relationships.csv",
                2,
                "from",
                "no node is named 'Chinese Society of Metal'; did you mean 'Chinese Society of Metals'?",
            ),
        ),
    ),
    Case(
        "unknown-endpoint-in-graph",
        (
            e(
                "relationships.csv",
                2,
                "from",
                "no node has the id 'society:cmez'; did you mean 'society:cmes'",
            ),
            e(
                "relationships.csv",
                3,
                "from",
                "no node is named 'Geological Society of Chna'; did you mean 'Geological Society of China'?",
            ),
        ),
    ),
    Case(
        "ambiguous-endpoint",
        (
            e(
                "relationships.csv",
                2,
                "from",
                "'Ouhai Innovation Hub' is ambiguous: it names organization:ouhai-hub, park:ouhai-hub; "
                "give the id, or the kind in from_kind / to_kind",
            ),
        ),
    ),
    Case(
        "unknown-endpoint-kind",
        (e("relationships.csv", 2, "from_kind", "'Club' is not a kind; known: Society"),),
    ),
    Case(
        "endpoint-wrong-kind",
        (
            e(
                "relationships.csv",
                2,
                "from",
                "'Wenzhou' names region:330300, which this relationship type cannot join",
            ),
        ),
    ),
    Case(
        "pair-not-allowed",
        (
            e(
                "relationships.csv",
                2,
                "type",
                "SERVES cannot join Society → Region; allowed: Organization→Industry, Program→Industry, "
                "Society→Industry, Talent→Industry",
            ),
        ),
    ),
    Case(
        "part-of-cycle",
        (
            e(
                "relationships.csv",
                2,
                None,
                "industry:wz:digital PART_OF industry:local:industrial-internet would close a cycle",
                "PART_OF must form a hierarchy",
            ),
        ),
    ),
    Case(
        "part-of-self-loop",
        (e("relationships.csv", 2, "type", "PART_OF cannot join industry:wz:digital to itself"),),
    ),
    Case(
        "repeated-relationship",
        (
            e(
                "relationships.csv",
                3,
                None,
                "repeats the relationship of row 2 (society:gsc SERVES industry:wz:footwear)",
            ),
        ),
    ),
    Case(
        "bad-date",
        (e("societies.csv", 2, "since", "'2021/05/31' is not a date; write 2021, 2021-05 or 2021-05-31"),),
    ),
    Case(
        "unknown-source",
        (e("societies.csv", 2, "source", "'wenzhou-news' is not a source in the manifest (known: corpus)"),),
    ),
    Case("empty-file", (e("societies.csv", None, None, "is empty: it needs a header row"),)),
    Case("ragged-row", (e("societies.csv", 2, None, "has 9 cells but the header has 8 columns"),)),
    Case(
        "stray-quote",
        (e("societies.csv", 2, None, "malformed CSV", "a quoted cell goes on after its closing '\"'"),),
    ),
    Case(
        "unclosed-quote",
        (e("societies.csv", 3, None, "malformed CSV", "a quoted cell starting in this row is never closed"),),
    ),
    Case("nul-byte", (e("societies.csv", None, None, "contains a NUL byte on line 3"),)),
    Case("blank-header-cell", (e("societies.csv", 1, None, "header cell 2 is blank"),)),
    Case(
        "very-long-field",
        (e("societies.csv", 2, "name", "is 301 characters long", "at most 300 characters"),),
    ),
    Case(
        "invalid-json",
        (e("societies.json", None, None, "not valid JSON at line 3: Expecting ',' delimiter"),),
    ),
    Case("json-too-deep", (e("societies.json", None, None, "nests deeper than a list of flat objects"),)),
    Case(
        "json-row-error",
        (e("societies.json", 2, "level", "'global' is not allowed", LEVELS),),
        json_row_error,
    ),
    Case(
        "missing-manifest",
        (e(DATASET, None, None, "has no dataset.toml; see docs/dataset-format.md"),),
    ),
    Case("invalid-manifest", (e("dataset.toml", None, None, "is not valid TOML", "line 1"),)),
    Case(
        "manifest-file-outside",
        (e("dataset.toml", None, "files.Society", "must name a file inside the dataset directory"),),
    ),
    Case(
        "rejected-node-cascade",
        (
            e("societies.csv", 2, "level", "'global' is not allowed", LEVELS),
            e("relationships.csv", 2, "from", "'society:csm' was rejected at societies.csv, row 2"),
            e(
                "relationships.csv",
                3,
                "from",
                "'中国金属学会' names the row rejected at societies.csv, row 2",
            ),
        ),
    ),
    Case(
        "xlsx-bad-row",
        (e("ecosystem.xlsx[societies]", 3, "level", "'global' is not allowed", LEVELS),),
        xlsx_bad_row,
    ),
    Case(
        "xlsx-without-sources",
        (e("ecosystem.xlsx", None, None, "has no 'sources' sheet; start from `innograph template`"),),
        xlsx_without_sources,
    ),
    Case(
        "xlsx-misspelt-sheets",
        (
            e(
                "ecosystem.xlsx[Socieites]",
                None,
                None,
                "sheet 'Socieites' is not read: did you mean 'societies'?",
            ),
            e("ecosystem.xlsx[enterprise ]", None, None, "did you mean 'enterprises'?"),
            e("ecosystem.xlsx[Relationship]", None, None, "did you mean 'relationships'?"),
        ),
        xlsx_misspelt_sheets,
    ),
    Case(
        "xlsx-two-sheets-of-one-kind",
        (
            e(
                "ecosystem.xlsx[Societies ]",
                None,
                None,
                "sheet 'Societies ' holds societies, and so does sheet 'societies'",
            ),
        ),
        xlsx_two_sheets_of_one_kind,
    ),
    Case(
        "json-alias-with-separator",
        (e("societies.json", 2, "aliases", "alias 'R|D' contains '|'", "would come back as several"),),
        json_alias_with_separator,
    ),
    Case(
        "undecodable-bytes",
        (
            e(
                "societies.csv",
                None,
                None,
                "neither UTF-8 nor GB18030/GBK",
                "save it as UTF-8 or give --encoding",
            ),
        ),
        undecodable,
    ),
]

ACCEPTED_DIRECTORIES = {"header-only", "hostile-names"}
"""Corpus directories that must load: odd, but not wrong."""


def test_the_corpus_is_large_and_every_directory_is_used() -> None:
    assert len(CORPUS) >= 25
    assert len({c.name for c in CORPUS}) == len(CORPUS)
    on_disk = {p.name for p in BAD.iterdir() if p.is_dir()}
    static = {c.name for c in CORPUS if c.build is None}
    assert static | ACCEPTED_DIRECTORIES == on_disk


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_bad_input_is_refused_precisely_and_nothing_is_written(
    store: GraphStore, mini_dataset: Path, tmp_path: Path, case: Case
) -> None:
    load_dataset(mini_dataset, store)
    before = graph_state(store)
    path = case.path(tmp_path)
    with pytest.raises(DataError) as info:
        load_dataset(path, store)
    got = info.value.errors
    shown = "\n".join(str(g) for g in got)
    assert len(got) == len(case.errors), shown
    for error, want in zip(got, case.errors, strict=True):
        file = str(path) if want.file == DATASET else want.file
        assert (error.file, error.row, error.column) == (file, want.row, want.column), shown
        for fragment in want.problem:
            assert fragment in error.problem, shown
    assert info.value.message.startswith(f"{len(got)} problem(s) in the dataset; nothing was written:")
    for error in got:
        assert str(error) in info.value.message
    assert graph_state(store) == before


# -- odd input that must load -----------------------------------------------------------

SOCIETY_HEADER = "id,name,name_zh,aliases,level,source,evidence,basis\n"
REL_HEADER = "from,type,to,source,evidence,basis\n"


def encoded_dataset(tmp_path: Path, encoding: str, name_zh: str) -> Path:
    societies = (
        SOCIETY_HEADER + f",Chinese Society for Metals,{name_zh},CSM,national,corpus,一個學會,stated\n"
    )
    rels = REL_HEADER + f"{name_zh},MEMBER_OF,CAST,corpus,全國學會,reference\n"
    return write_dataset(
        tmp_path / encoding,
        {"societies.csv": societies.encode(encoding), "relationships.csv": rels.encode(encoding)},
    )


@pytest.mark.parametrize(
    ("encoding", "name_zh"),
    [("gbk", "中国金属学会"), ("gb18030", "中国𠮷金属学会"), ("utf-8-sig", "中国金属学会")],
)
def test_chinese_spreadsheet_encodings_load_with_names_intact(
    store: GraphStore, mini_dataset: Path, tmp_path: Path, encoding: str, name_zh: str
) -> None:
    load_dataset(mini_dataset, store)
    report = load_dataset(encoded_dataset(tmp_path, encoding, name_zh), store)
    assert report.summary.nodes["Society"].created == 1
    node = store.get_node("society:chinese-society-for-metals")
    assert node is not None
    assert node.name_zh == name_zh
    assert node.provenance.evidence == "一個學會"
    assert store.ids_by_name([name_zh]) == {name_zh: ["society:chinese-society-for-metals"]}
    key = ("society:chinese-society-for-metals", "MEMBER_OF", "organization:cast")
    assert store.get_relationships([key])[key].provenance.evidence == "全國學會"


def test_forced_encoding_reads_what_detection_would_not(
    store: GraphStore, mini_dataset: Path, tmp_path: Path
) -> None:
    # Big5 bytes are valid GB18030 too, so detection reads them as the wrong characters.
    path = encoded_dataset(tmp_path, "big5", "中國金屬學會")
    load_dataset(mini_dataset, store)
    load_dataset(path, store)
    guessed = store.get_node("society:chinese-society-for-metals")
    assert guessed is not None
    assert guessed.name_zh != "中國金屬學會"
    report = load_dataset(path, store, encoding="big5")
    assert report.summary.nodes["Society"].updated == 1
    node = store.get_node("society:chinese-society-for-metals")
    assert node is not None
    assert node.name_zh == "中國金屬學會"
    assert node.provenance.evidence == "一個學會"


def test_header_only_file_loads_nothing(store: GraphStore, mini_dataset: Path) -> None:
    load_dataset(mini_dataset, store)
    before = graph_state(store)
    report = load_dataset(BAD / "header-only", store)
    assert report.rows_read == 0
    assert report.summary.changed == 0
    assert report.rejected == []
    assert graph_state(store) == before


HTML = "<img src=x onerror=alert(1)>"
CYPHER = "' WITH DISTINCT true AS x MATCH (s) DETACH DELETE s //"
TICKS = "`Society` name``with`backticks"


def test_html_and_cypher_looking_text_is_stored_verbatim(store: GraphStore, mini_dataset: Path) -> None:
    load_dataset(mini_dataset, store)
    before = graph_state(store)
    report = load_dataset(BAD / "hostile-names", store)
    assert report.summary.changed == 8
    html, cypher, ticks, svg = (
        store.get_node(i)
        for i in ("society:html", "society:cypher", "society:ticks", "society:svg-onload-alert-1")
    )
    assert html is not None and cypher is not None and ticks is not None and svg is not None
    assert (html.name, html.name_zh, html.aliases) == (
        HTML,
        "<script>alert('学会')</script>",
        ("<b>bold</b>",),
    )
    assert html.description == '<a href="javascript:alert(1)">click</a>'
    assert html.provenance.evidence == "<i>evidence</i> & more"
    assert (cypher.name, cypher.name_zh) == (CYPHER, '") MATCH (n) DETACH DELETE n //')
    assert cypher.aliases == ("{id: 1}", "$param")
    assert cypher.description == "CALL dbms.killQueries([]) // }"
    assert cypher.provenance.evidence == "'; DROP TABLE societies; --"
    assert (ticks.name, ticks.aliases) == (TICKS, ("`:Label`",))
    assert svg.name == "<svg onload=alert(1)>"
    assert store.ids_by_name([CYPHER, HTML, TICKS, "$param"]) == {
        CYPHER.casefold(): ["society:cypher"],
        HTML: ["society:html"],
        TICKS.casefold(): ["society:ticks"],
        "$param": ["society:cypher"],
    }
    keys = [
        ("society:cypher", "SERVES", "industry:wz:footwear"),
        ("society:html", "MEMBER_OF", "organization:cast"),
        ("society:ticks", "SERVES", "industry:wz:digital"),
        ("society:svg-onload-alert-1", "SERVES", "industry:wz:footwear"),
    ]
    rels = store.get_relationships(keys)
    assert sorted(rels) == sorted(keys)
    assert rels[keys[0]].provenance.evidence == "MATCH (n) DETACH DELETE n"
    # nothing else was touched: the mini graph is all there, plus exactly what was loaded
    counts, nodes, relationships = graph_state(store)
    assert counts["nodes"] == {**before[0]["nodes"], "Society": before[0]["nodes"]["Society"] + 4}
    assert counts["relationships"]["SERVES"] == before[0]["relationships"]["SERVES"] + 3
    assert [n for n in nodes if n in before[1]] == before[1]
    assert all(r in relationships for r in before[2])
    # and a re-load finds it all unchanged, byte for byte
    again = load_dataset(BAD / "hostile-names", store)
    assert again.summary.changed == 0


def test_json_dataset_loads(store: GraphStore, tmp_path: Path) -> None:
    doc = [
        {
            "name": "Chinese Society for Metals",
            "name_zh": "中国金属学会",
            "aliases": ["CSM", "金属学会"],
            "level": "national",
            "since": "1956",
            "source": "corpus",
            "evidence": "founded 1956",
            "basis": "stated",
        }
    ]
    rels = [{"from": "金属学会", "type": "MEMBER_OF", "to": "CAST", "source": "corpus", "basis": "reference"}]
    orgs = [{"id": "organization:cast", "name": "CAST", "source": "corpus", "basis": "reference"}]
    path = write_dataset(
        tmp_path / "json",
        {
            "societies.json": json.dumps(doc, ensure_ascii=False),
            "organizations.json": json.dumps(orgs),
            "relationships.json": json.dumps(rels, ensure_ascii=False),
        },
    )
    load_dataset(path, store)
    node = store.get_node("society:chinese-society-for-metals")
    assert node is not None
    assert (node.aliases, node.since) == (("CSM", "金属学会"), "1956")
    assert store.counts().relationships == {"MEMBER_OF": 1}


def test_workbook_sheets_load_in_any_case_and_unrelated_sheets_are_ignored(
    store: GraphStore, tmp_path: Path
) -> None:
    header = ["id", "name", "source", "basis"]
    path = write_workbook(
        tmp_path / "ecosystem.xlsx",
        {
            "README": [["anything"]],
            "Notes": [["a note", "that is not data"]],
            "sources": [["key", "title"], ["corpus", "innograph test corpus"]],
            "Societies ": [header, ["society:x", "Society X", "corpus", "stated"]],
            "ORGANIZATIONS": [header, ["organization:y", "Org Y", "corpus", "stated"]],
            " Relationships": [
                ["from", "type", "to", "source", "basis"],
                ["society:x", "MEMBER_OF", "organization:y", "corpus", "stated"],
            ],
        },
    )
    load_dataset(path, store)
    assert store.counts().nodes == {"Organization": 1, "Society": 1}
    assert store.counts().relationships == {"MEMBER_OF": 1}


def test_csv_export_loads_back_with_the_same_aliases(store: GraphStore, tmp_path: Path) -> None:
    from graph_service.app.exports import export_graph

    doc = [
        {
            "id": "society:rd",
            "name": "R and D Society",
            "aliases": ["R/D", "R&D", "研发"],
            "source": "corpus",
            "basis": "stated",
        }
    ]
    load_dataset(write_dataset(tmp_path / "json", {"societies.json": json.dumps(doc)}), store)
    before = graph_state(store)
    out = tmp_path / "exported"
    export_graph(store, "csv", out)
    store.clear()
    load_dataset(out, store)
    assert graph_state(store) == before
    node = store.get_node("society:rd")
    assert node is not None
    assert node.aliases == ("R/D", "R&D", "研发")


# -- partial loads and cascades ---------------------------------------------------------


def test_partial_load_writes_good_rows_and_a_rejects_file(
    store: GraphStore, mini_dataset: Path, tmp_path: Path
) -> None:
    load_dataset(mini_dataset, store)
    rejects = tmp_path / "out" / "rejects.csv"
    report = load_dataset(BAD / "rejected-node-cascade", store, partial=True, rejects_path=rejects)
    assert [str(r) for r in report.rejected] == [
        "societies.csv, row 2, column 'level': 'global' is not allowed; input should be "
        "'national', 'provincial' or 'city'",
        "relationships.csv, row 2, column 'from': 'society:csm' was rejected at societies.csv, row 2",
        "relationships.csv, row 3, column 'from': '中国金属学会' names the row rejected at societies.csv, row 2",
    ]
    assert report.rejects_file == rejects
    assert store.get_node("society:csm") is None
    assert store.get_node("society:cses") is not None
    assert report.summary.nodes["Society"].created == 1
    assert {k: v.created for k, v in report.summary.relationships.items()} == {"SERVES": 1, "MEMBER_OF": 1}
    assert sorted((n.relationship.type.value, n.node.id) for n in store.neighbors("society:cses")) == [
        ("MEMBER_OF", "organization:cast"),
        ("SERVES", "industry:wz:digital"),
    ]
    with open(rejects, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["file", "row", "column", "problem", "cells"]
    assert [r[:4] for r in rows[1:]] == [
        [
            "societies.csv",
            "2",
            "level",
            "'global' is not allowed; input should be 'national', 'provincial' or 'city'",
        ],
        ["relationships.csv", "2", "from", "'society:csm' was rejected at societies.csv, row 2"],
        ["relationships.csv", "3", "from", "'中国金属学会' names the row rejected at societies.csv, row 2"],
    ]
    cells = [json.loads(r[4]) for r in rows[1:]]
    assert cells[0]["id"] == "society:csm"
    assert cells[0]["level"] == "global"
    assert cells[1]["from"] == "society:csm"
    assert cells[2]["from"] == "中国金属学会"
    assert "rejected" in report.render()
    assert str(rejects) in report.render()
    # the same partial load again: nothing new, the same rows rejected
    again = load_dataset(BAD / "rejected-node-cascade", store, partial=True, rejects_path=rejects)
    assert again.summary.changed == 0
    assert len(again.rejected) == 3


def test_without_partial_the_cascade_writes_nothing(store: GraphStore, mini_dataset: Path) -> None:
    load_dataset(mini_dataset, store)
    before = graph_state(store)
    with pytest.raises(DataError):
        load_dataset(BAD / "rejected-node-cascade", store)
    assert store.get_node("society:cses") is None
    assert graph_state(store) == before


def test_ambiguity_is_settled_by_the_kind_column(store: GraphStore, tmp_path: Path) -> None:
    source = BAD / "ambiguous-endpoint"
    files: dict[str, str | bytes] = {
        p.name: p.read_text(encoding="utf-8") for p in source.iterdir() if p.name != "dataset.toml"
    }
    files["relationships.csv"] = (
        "from,type,to,from_kind,source,evidence,basis\n"
        "Ouhai Innovation Hub,PARTY_TO,agreement:ouhai,park,corpus,the hub signed,stated\n"
    )
    load_dataset(write_dataset(tmp_path / "settled", files), store)
    assert list(store.get_relationships([("park:ouhai-hub", "PARTY_TO", "agreement:ouhai")])) == [
        ("park:ouhai-hub", "PARTY_TO", "agreement:ouhai")
    ]
    assert store.counts().relationships == {"PARTY_TO": 1}


# -- endpoint names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "society:csee",
        "Chinese Society for Electrical Engineering",
        "中国电机工程学会",
        "CSEE",
        "ＣＳＥＥ",
        "Ｃｈｉｎｅｓｅ　Ｓｏｃｉｅｔｙ for Electrical  Engineering",
        "chinese society for electrical engineering",
    ],
)
def test_endpoints_resolve_by_id_name_chinese_name_alias_and_width(
    store: GraphStore, mini_dataset: Path, tmp_path: Path, ref: str
) -> None:
    load_dataset(mini_dataset, store)
    before = store.counts().relationships["SERVES"]
    path = write_dataset(
        tmp_path / "refs", {"relationships.csv": REL_HEADER + f"{ref},SERVES,鞋业,corpus,x,inferred\n"}
    )
    report = load_dataset(path, store)
    assert report.summary.relationships["SERVES"].created == 1
    key = ("society:csee", "SERVES", "industry:wz:footwear")
    assert list(store.get_relationships([key])) == [key]
    assert store.counts().relationships["SERVES"] == before + 1


def test_endpoints_resolve_among_the_datasets_own_nodes(store: GraphStore, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "societies.csv": SOCIETY_HEADER
        + ",Chinese Society for Metals,中国金属学会,CSM,national,corpus,,stated\n",
        "industries.csv": "name,name_zh,taxonomy,source,basis\nMetallurgy,冶金,local,corpus,stated\n",
        "relationships.csv": REL_HEADER
        + "ＣＳＭ,SERVES,冶金,corpus,x,inferred\n"
        + "中国金属学会,SERVES,industry:metallurgy,corpus,x,inferred\n",
    }
    with pytest.raises(DataError) as info:  # the same relationship twice, by two names
        load_dataset(write_dataset(tmp_path / "own", files), store)
    assert [str(x) for x in info.value.errors] == [
        "relationships.csv, row 3: repeats the relationship of row 2 "
        "(society:chinese-society-for-metals SERVES industry:metallurgy)"
    ]
    assert store.counts().total_nodes == 0


# -- re-loads, batches, progress ----------------------------------------------------------


def assert_all_unchanged(report: LoadReport) -> None:
    assert report.summary.changed == 0
    for counts in [*report.summary.nodes.values(), *report.summary.relationships.values()]:
        assert counts.created == counts.updated == 0
        assert counts.unchanged > 0


def test_loading_the_same_dataset_twice_changes_nothing(store: GraphStore, mini_dataset: Path) -> None:
    first = load_dataset(mini_dataset, store)
    assert {k: v.created for k, v in first.summary.nodes.items()} == MINI_NODES
    assert {k: v.created for k, v in first.summary.relationships.items()} == MINI_RELATIONSHIPS
    state = graph_state(store)
    second = load_dataset(mini_dataset, store)
    assert_all_unchanged(second)
    assert {k: v.unchanged for k, v in second.summary.nodes.items()} == MINI_NODES
    assert {k: v.unchanged for k, v in second.summary.relationships.items()} == MINI_RELATIONSHIPS
    assert graph_state(store) == state


def test_a_changed_row_counts_as_updated(store: GraphStore, mini_dataset: Path, tmp_path: Path) -> None:
    load_dataset(mini_dataset, store)
    files: dict[str, str | bytes] = {
        "parks.csv": "id,name,park_kind,companies,source,evidence,basis\n"
        "park:incubator,Young Scientist Incubator,incubator,52,corpus,now 52 companies,stated\n"
    }
    report = load_dataset(write_dataset(tmp_path / "update", files), store)
    assert vars(report.summary.nodes["Park"]) == {"created": 0, "updated": 1, "unchanged": 0}
    park = store.get_node("park:incubator")
    assert park is not None
    assert park.companies == 52
    assert park.provenance.evidence == "now 52 companies"
    assert store.counts().nodes == MINI_NODES


def test_small_batches_give_the_same_graph_and_report_progress(store: GraphStore, mini_dataset: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    report = load_dataset(mini_dataset, store, batch_size=4, progress=lambda *a: calls.append(a))
    assert store.counts().nodes == MINI_NODES
    assert store.counts().relationships == MINI_RELATIONSHIPS
    total = sum(MINI_NODES.values()) + sum(MINI_RELATIONSHIPS.values())
    assert calls[-1] == ("relationships", total, total)
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)
    assert {c[0] for c in calls} == {"nodes", "relationships"}
    assert len(calls) == -(-sum(MINI_NODES.values()) // 4) + -(-sum(MINI_RELATIONSHIPS.values()) // 4)
    assert report.rows_read == total


# -- the bundled Wenzhou dataset ----------------------------------------------------------


def test_wenzhou_loads_with_exactly_its_counts(store: GraphStore) -> None:
    report = load_dataset(WENZHOU_DATASET, store)
    counts = store.counts()
    assert counts.nodes == WENZHOU_NODES
    assert counts.relationships == WENZHOU_RELATIONSHIPS
    assert counts.total_nodes == sum(WENZHOU_NODES.values())
    assert counts.total_relationships == sum(WENZHOU_RELATIONSHIPS.values())
    assert report.rejected == []
    assert {k: v.created for k, v in report.summary.nodes.items()} == WENZHOU_NODES
    assert_all_unchanged(load_dataset(WENZHOU_DATASET, store))
    assert store.counts() == counts


def test_wenzhou_facts_carry_their_evidence(store: GraphStore) -> None:
    load_dataset(WENZHOU_DATASET, store)
    key = ("society:cmes", "PARTICIPATES_IN", "program:wenzhou-expert-panels")
    rel = store.get_relationships([key])[key]
    assert rel.provenance.basis.value == "stated"
    assert rel.provenance.source == "wenzhou-2021-09-27"
    assert "expert panels in collaboration with national societies" in rel.provenance.evidence
    assert "Chinese Mechanical Engineering Society" in rel.provenance.evidence

    panels = store.neighbors("program:wenzhou-expert-panels", direction="out", types=[RelType.SERVES])
    assert [n.node.id for n in panels] == [
        "industry:local:wenzhou-electrical",
        "industry:local:wenzhou-industrial-internet",
        "industry:local:wenzhou-intelligent-auto-parts",
    ]
    members = store.neighbors(
        "program:wenzhou-expert-panels", direction="in", types=[RelType.PARTICIPATES_IN]
    )
    assert [n.node.id for n in members] == ["society:cmes", "society:csae", "society:csee"]

    plan = store.get_node("program:wenzhou-three-year-action-plan-2021-2023")
    assert plan is not None
    assert plan.targets == {"academician_workstation": 50, "doctoral_station": 100}
    assert (plan.since, plan.until, plan.program_kind) == ("2021", "2023", "plan")
    assert "100 doctoral innovation stations" in plan.provenance.evidence

    incubator = store.get_node("park:world-young-scientist-incubator")
    assert incubator is not None
    assert incubator.companies == 47
    assert store.ids_by_name(["中国机械工程学会"]) == {"中国机械工程学会": ["society:cmes"]}
    # the one person a source names: a professor guiding Yueqing's electrical cluster
    assert [t.id for t in store.iter_nodes(NodeKind.TALENT)] == ["talent:yan-xiaolang"]
    serves = store.neighbors("talent:yan-xiaolang", direction="out", types=[RelType.SERVES])
    assert [n.node.id for n in serves] == ["industry:wenzhou-5-5:electrical"]


def test_every_wenzhou_fact_has_provenance(store: GraphStore) -> None:
    load_dataset(WENZHOU_DATASET, store)
    sources = set(read_manifest(WENZHOU_DATASET)[0].sources)
    facts = [*store.iter_nodes(), *store.iter_relationships()]
    assert len(facts) == sum(WENZHOU_NODES.values()) + sum(WENZHOU_RELATIONSHIPS.values())
    for fact in facts:
        assert fact.provenance.source in sources
        assert fact.provenance.evidence.strip()
        assert fact.provenance.basis.value in ("stated", "inferred", "reference")
