"""Property test: any graph a load accepts exports to GraphML, GEXF and JSON that parse, and to CSV
that loads back to the identical graph.

The datasets are drawn with the characters that broke exports before (NUL and other controls,
DEL, C1 controls, carriage returns, lone surrogates, U+FFFE, zero-width and bidi characters, soft
hyphens), the ones the CSV text marker and the alias separator care about (``'``, ``=``, ``|``),
and spellings that fold together (case, full width, other scripts' digits), in ids, names,
aliases, descriptions, evidence, roles, dates and plan targets; as JSON (which lets every one of
them in) or as CSV. A refused dataset must say where; an accepted one must export cleanly.
``INNOGRAPH_PROPERTY_EXAMPLES`` sets how many datasets a run draws (200 by default).
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

from corpus import graph_state, write_dataset
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from graph_service.app.exports import export_graph
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.cells import write_csv
from graph_service.core.errors import DataError
from loaders.load import load_dataset

FOLDED = [
    "'",
    "''",
    "'=",
    "''+",
    "=",
    "+",
    "-",
    "@",
    "|",
    '"',
    ",",
    ":",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\u3000",
]
"""Characters names and text may hold that the CSV marker, the separators and the line rules care about."""
ODD = [
    "\u200b",
    "\u00ad",
    "\u202e",
    "\u2066",
    "\ufeff",
    "Ａ",
    "２",
    "٢",
    "ß",
    "İ",
    "ﬁ",
    "中",
    "😀",
    "\U000e0041",
]
"""Characters names may hold that ids may not, or that fold under NFKC or case-folding."""
BAD_IN_TEXT = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\x0b", "\ud800", "\ufffe", "\uffff"]
BAD_IN_IDS = [*BAD_IN_TEXT, "\u200b", "\u200d", "\u00ad", "\u202e", "\u2066", "\u200f", "\ufeff", "\u2060"]
BAD_DATES = ["٢٠٢١", "२०२१", "2021-02-30", "2021-13", "2021/05", "21"]

CHARACTER = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
PIECE = st.one_of(st.sampled_from(FOLDED + ODD), st.text(CHARACTER, max_size=4))
TEXT = st.lists(PIECE, max_size=5).map("".join)
KEY = st.lists(
    st.sampled_from([*"abcXYZ019-._'=", "ｃ", "Ｄ", "ß", "İ", "中", "é", "e\u0301"]), min_size=1, max_size=6
).map("".join)
NAME = st.one_of(TEXT.map(lambda t: t + "n"), TEXT.map(lambda t: "n" + t))
"""A name (never blank, which is a refusal of its own), with the odd characters at either end."""
DATE = st.one_of(st.none(), st.sampled_from(["2021", "2021-05", "2020-02-29", "２０２１－０９", " 2021 "]))


@st.composite
def datasets(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], tuple[str, str] | None]:
    """Societies, programs and relationships between them, as rows of cells, all within the text
    rules; and sometimes one cell broken by a character or a date the rules refuse, with the
    column and the character (``None`` when nothing was broken)."""
    societies = [
        {
            "id": f"{draw(st.sampled_from(['society', 'Society', 'ＳＯＣＩＥＴＹ']))}:{draw(KEY)}",
            "name": draw(NAME),
            "name_zh": draw(st.one_of(st.none(), TEXT)),
            "aliases": draw(st.lists(TEXT.map(lambda t: t.replace("|", "")), max_size=3)),  # '|' splits
            "description": draw(TEXT),
            "since": draw(DATE),
            "until": draw(DATE),
            "source": "corpus",
            "evidence": draw(TEXT),
            "basis": "stated",
        }
        for _ in range(draw(st.integers(1, 4)))
    ]
    programs = [
        {
            "id": f"program:{draw(KEY)}",
            "name": draw(NAME),
            "program_kind": "plan",
            "participants": draw(st.one_of(st.none(), st.integers(0, 10**6))),
            "targets": draw(st.one_of(st.none(), st.dictionaries(NAME, st.integers(0, 500), max_size=2))),
            "since": draw(DATE),
            "source": "corpus",
            "evidence": draw(TEXT),
            "basis": "inferred",
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    relationships = [
        {
            "from": draw(st.sampled_from([r["id"] for r in societies])),
            "type": "PARTICIPATES_IN",
            "to": draw(st.sampled_from([r["id"] for r in programs])),
            "role": draw(st.one_of(st.none(), TEXT)),
            "since": draw(DATE),
            "source": "corpus",
            "evidence": draw(TEXT),
            "basis": "stated",
        }
        for _ in range(draw(st.integers(0, 3) if programs else st.just(0)))
    ]
    broken = None
    if draw(st.booleans()):
        row = draw(st.sampled_from(societies))
        column = draw(st.sampled_from(["id", "name", "aliases", "description", "evidence", "since"]))
        if column == "since":
            bad = draw(st.sampled_from(BAD_DATES))
            row["since"] = bad
        else:
            bad = draw(st.sampled_from(BAD_IN_IDS if column == "id" else BAD_IN_TEXT))
            if column == "aliases":
                row["aliases"] = [*row["aliases"], f"x{bad}y"]
            else:  # inside the value, where no stripping takes it off
                row[column] = f"{row[column]}x{bad}y"
        broken = (column, bad)
    return {"societies": societies, "programs": programs, "relationships": relationships}, broken


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps([{k: v for k, v in row.items() if v is not None} for row in rows])


def _csv(rows: list[dict[str, Any]]) -> bytes | None:
    """The rows as a CSV file, or ``None`` when a cell cannot be written to one (a surrogate, a NUL)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = list(rows[0])
    writer.writerow(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, list):
                value = "|".join(value)
            elif isinstance(value, dict):
                value = json.dumps(value)
            cells.append("" if value is None else str(value))
        writer.writerow(cells)
    text = buffer.getvalue()
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return None if b"\x00" in data else data


@settings(
    max_examples=int(os.environ.get("INNOGRAPH_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=datasets(), as_csv=st.booleans())
def test_any_graph_a_load_accepts_exports_cleanly_and_reloads_identically(
    tmp_path_factory: Any,
    drawn: tuple[dict[str, list[dict[str, Any]]], tuple[str, str] | None],
    as_csv: bool,
) -> None:
    data, broken = drawn
    directory = tmp_path_factory.mktemp("dataset")
    files: dict[str, str | bytes] = {}
    for stem, rows in data.items():
        if not rows:
            continue
        written = _csv(rows) if as_csv else None
        files[f"{stem}.csv" if written is not None else f"{stem}.json"] = written or _json(rows)
    write_dataset(directory, files)
    store = EmbeddedStore(None)
    try:
        load_dataset(directory, store)
    except DataError as exc:  # refused: every problem located, nothing written
        for error in exc.errors:
            assert error.file in files or error.file == "dataset.toml", error
            assert error.problem, error
        assert store.counts().total_nodes == 0
        if broken is not None:
            column, bad = broken
            named = f"U+{ord(bad):04X}" if len(bad) == 1 else repr(bad)
            assert any(
                e.column == column and named in e.problem
                for e in exc.errors
                if e.file.startswith("societies")
            ) or any("NUL byte" in e.problem for e in exc.errors), (broken, [str(e) for e in exc.errors])
        event("refused: a cell broken" if broken else "refused: repeated ids or relationships")
        return
    assert broken is None, f"{broken} was let in"
    event("accepted, with relationships" if store.counts().total_relationships else "accepted, nodes only")
    out = tmp_path_factory.mktemp("export")
    for fmt in ("graphml", "gexf"):
        (path,) = export_graph(store, fmt, out / f"graph.{fmt}")
        root = ElementTree.parse(path).getroot()  # well-formed XML, or this raises
        assert sum(1 for e in root.iter() if e.tag.endswith("}node")) == store.counts().total_nodes
    (path,) = export_graph(store, "json", out / "graph.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert len(doc["nodes"]) == store.counts().total_nodes
    assert len(doc["relationships"]) == store.counts().total_relationships
    export_graph(store, "csv", out / "csv")
    again = EmbeddedStore(None)
    load_dataset(out / "csv", again)
    assert graph_state(again) == graph_state(store)


def test_values_that_start_like_the_csv_text_marker_come_back_as_they_were(tmp_path: Path) -> None:
    """innograph's CSV files mark text a spreadsheet would run ('=…') with a leading quote, and the
    loader takes it off; text that starts with quotes before such a sign gets one quote more, so it
    too comes back as it was (before, "'=x" came back as "=x")."""
    values = {
        "id": "society:marked",
        "name": "'=quoted formula",
        "name_zh": "中文\t名称",
        "aliases": "''@twice|'plain quote|=first",
        "description": "line one\r\nline two",
        "source": "corpus",
        "evidence": "'-starts with a marker",
        "basis": "stated",
    }
    path = write_dataset(tmp_path / "marked", {"societies.csv": write_csv([list(values.values())], values)})
    store = EmbeddedStore(None)
    load_dataset(path, store)
    node = store.get_node("society:marked")
    assert node is not None
    assert (node.name, node.name_zh, node.aliases, node.description, node.provenance.evidence) == (
        "'=quoted formula",
        "中文\t名称",
        ("''@twice", "'plain quote", "=first"),
        "line one\nline two",  # a carriage return before a line feed is read as a line feed
        "'-starts with a marker",
    )
    export_graph(store, "csv", tmp_path / "csv")
    again = EmbeddedStore(None)
    load_dataset(tmp_path / "csv", again)
    assert graph_state(again) == graph_state(store)
