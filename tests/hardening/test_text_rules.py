"""The text rules through a load and the API, on both backends (embedded and a real Neo4j).

- Dates in full-width digits are stored in ASCII, and ``as_of`` in full width answers as ASCII
  does; other scripts' digits and days not in the calendar are refused, in files and in ``as_of``.
- Every visible spelling of an id is one id (case, full width); ids with control or invisible
  characters are refused, in node files and relationship ends.
- Names and free text refuse control characters, naming the column and the character.

Each refusal names its file, row and column (API: a 422 JSON message), and leaves the graph as it was.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from corpus import MINI, graph_state, write_dataset
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.core.errors import DataError
from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore
from loaders.load import load_dataset

ELECTRICAL = "/api/industries/industry:wz:electrical/societies"
NEW_SOCIETY = {
    "id": "society:late",
    "name": "Society signed late",
    "since": "２０２１－１０",
    "source": "corpus",
    "basis": "stated",
}
NEW_SERVES = {
    "from": "Society:LATE",
    "type": "SERVES",
    "to": "ｉｎｄｕｓｔｒｙ：ｗｚ：ｅｌｅｃｔｒｉｃａｌ",
    "since": "２０２１－１０－０１",
    "source": "corpus",
    "evidence": "serves from October",
    "basis": "stated",
}


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> Iterator[tuple[TestClient, GraphStore]]:
    load_dataset(MINI, store)
    # no lifespan: its shutdown would close the store, which the store fixture owns
    yield TestClient(create_app(Settings(data_dir=tmp_path), store)), store


def _refused(store: GraphStore, path: Path) -> list[str]:
    """The located problems of a load that must be refused, after checking it changed nothing."""
    before = graph_state(store)
    with pytest.raises(DataError) as info:
        load_dataset(path, store)
    assert graph_state(store) == before
    return [str(e) for e in info.value.errors]


# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["csv", "json"])
def test_full_width_dates_are_stored_in_ascii_and_as_of_in_full_width_answers_alike(
    api: tuple[TestClient, GraphStore], tmp_path: Path, form: str
) -> None:
    client, store = api
    files = (
        {"societies.csv": _csv([NEW_SOCIETY]), "relationships.csv": _csv([NEW_SERVES])}
        if form == "csv"
        else {"societies.json": json.dumps([NEW_SOCIETY]), "relationships.json": json.dumps([NEW_SERVES])}
    )
    load_dataset(write_dataset(tmp_path / "late", files), store)
    node = store.get_node("society:late")
    assert node is not None and node.since == "2021-10"
    (serves,) = [r for r in store.iter_relationships() if r.source == "society:late"]
    assert (serves.target, serves.since) == ("industry:wz:electrical", "2021-10-01")

    def serving(as_of: str) -> tuple[str | None, list[str]]:
        response = client.get(ELECTRICAL, params={"as_of": as_of})
        assert response.status_code == 200, response.text
        body = response.json()
        return body["as_of"], sorted(r["society"]["id"] for r in body["results"])

    wide, narrow = serving("２０２１－１０"), serving("2021-10")
    assert wide == narrow and wide[0] == "2021-10" and "society:late" in wide[1]
    assert "society:late" not in serving("２０２１－０９")[1]  # the month before it started
    assert serving("２０２１－１０－０１") == serving("2021-10-01") == ("2021-10-01", narrow[1])


@pytest.mark.parametrize(
    ("as_of", "problem"),
    [
        ("٢٠٢١", "'٢٠٢١' is not a date: U+0662 (ARABIC-INDIC DIGIT TWO) is a digit of another script"),
        ("२०२१-०९", "U+0968 (DEVANAGARI DIGIT TWO) is a digit of another script"),
        ("2021-02-30", "'2021-02-30' is not a date in the calendar"),
        ("2021-13", "'2021-13' is not a date; write 2021, 2021-05 or 2021-05-31"),
        ("", "'' is not a date"),
    ],
)
def test_as_of_in_other_digits_or_off_the_calendar_is_a_422_saying_why(
    api: tuple[TestClient, GraphStore], as_of: str, problem: str
) -> None:
    client, _ = api
    for path, params in [
        (ELECTRICAL, {"as_of": as_of}),
        ("/api/gaps", {"taxonomy": "wenzhou-5+5", "as_of": as_of}),
        ("/api/entities/society:cmes/neighborhood", {"as_of": as_of}),
        ("/api/changes", {"start": as_of, "end": "2021-12"}),
    ]:
        response = client.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert error["type"] == "InvalidRequest"
        assert problem in error["message"], error["message"]
        assert ("start: " if path == "/api/changes" else "as_of: ") in error["message"]


def test_a_leap_day_is_a_date(api: tuple[TestClient, GraphStore]) -> None:
    client, _ = api
    response = client.get(ELECTRICAL, params={"as_of": "2020-02-29"})
    assert response.status_code == 200 and response.json()["as_of"] == "2020-02-29"
    response = client.get("/api/changes", params={"start": "２０２１", "end": "2021-12-31"})
    assert response.status_code == 200, response.text


OTHER_SCRIPT = "is a digit of another script; write dates in the digits 0-9, as 2021, 2021-05 or 2021-05-31"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("٢٠٢١", f"'٢٠٢١' is not a date: U+0662 (ARABIC-INDIC DIGIT TWO) {OTHER_SCRIPT}"),
        ("२०२१", f"'२०२१' is not a date: U+0968 (DEVANAGARI DIGIT TWO) {OTHER_SCRIPT}"),
        ("2021-02-30", "'2021-02-30' is not a date in the calendar"),
    ],
)
def test_dates_in_other_digits_are_refused_in_files_naming_row_and_column(
    store: GraphStore, tmp_path: Path, written: str, problem: str
) -> None:
    load_dataset(MINI, store)
    files = {
        "societies.json": json.dumps([{**NEW_SOCIETY, "since": written}]),
        "relationships.csv": _csv([{**NEW_SERVES, "from": "society:cmes", "since": written}]),
    }
    assert _refused(store, write_dataset(tmp_path / "dates", files)) == [
        f"societies.json, row 1, column 'since': {problem}",
        f"relationships.csv, row 2, column 'since': {problem}",
    ]


# -- ids -----------------------------------------------------------------------------------------


def test_ids_differing_by_case_or_width_are_one_node(store: GraphStore, tmp_path: Path) -> None:
    load_dataset(MINI, store)
    nodes = store.counts().total_nodes
    for n, spelling in enumerate(["Society:CMES", "society:ｃｍｅｓ", "ＳＯＣＩＥＴＹ：ＣＭＥＳ"]):
        row = {
            "id": spelling,
            "name": "Chinese Mechanical Engineering Society",
            "source": "corpus",
            "basis": "stated",
        }
        load_dataset(write_dataset(tmp_path / f"again-{n}", {"societies.csv": _csv([row])}), store)
    assert store.counts().total_nodes == nodes
    assert store.get_node("society:cmes") is not None


def test_case_and_width_spellings_of_one_id_in_one_file_are_refused_as_duplicates(
    store: GraphStore, tmp_path: Path
) -> None:
    rows = [
        {"id": spelling, "name": f"Spelling {n}", "source": "corpus", "basis": "stated"}
        for n, spelling in enumerate(["society:abc", "Society:ABC", "society:ａｂｃ"])
    ]
    got = _refused(store, write_dataset(tmp_path / "dupes", {"societies.csv": _csv(rows)}))
    assert got == [
        "societies.csv, row 3, column 'id': duplicate id 'society:abc', first at societies.csv, row 2",
        "societies.csv, row 4, column 'id': duplicate id 'society:abc', first at societies.csv, row 2",
    ]


INVISIBLE = {
    "\u200b": "U+200B (ZERO WIDTH SPACE), an invisible formatting character",
    "\u00ad": "U+00AD (SOFT HYPHEN), an invisible formatting character",
    "\u202e": "U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible formatting character",
    "\u2066": "U+2066 (LEFT-TO-RIGHT ISOLATE), an invisible formatting character",
    "\u200f": "U+200F (RIGHT-TO-LEFT MARK), an invisible formatting character",
    "\ufeff": "U+FEFF (ZERO WIDTH NO-BREAK SPACE), an invisible formatting character",
    "\x01": "U+0001, a control character",
}


@pytest.mark.parametrize("character", list(INVISIBLE), ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_ids_with_invisible_characters_are_refused_in_nodes_and_relationship_ends(
    store: GraphStore, tmp_path: Path, character: str
) -> None:
    load_dataset(MINI, store)
    spelled = f"society:cm{character}es"
    files = {
        "societies.json": json.dumps([{**NEW_SOCIETY, "id": spelled}]),
        "relationships.csv": _csv([{**NEW_SERVES, "from": spelled}]),
    }
    got = _refused(store, write_dataset(tmp_path / "invisible", files))
    message = f"id {spelled!r} holds {INVISIBLE[character]}; ids must look as they are, so write it without that character"
    assert got == [
        f"societies.json, row 1, column 'id': {message}",
        f"relationships.csv, row 2, column 'from': {message}",
    ]


# -- names and free text ------------------------------------------------------------------------

CONTROLS = {
    "\x00": "U+0000 (NULL)",
    "\x1b": "U+001B (ESCAPE)",
    "\x7f": "U+007F (DELETE)",
    "\x85": "U+0085 (NEXT LINE)",
    "\x9b": "U+009B",
    "\ud800": "U+D800",
}


@pytest.mark.parametrize("character", list(CONTROLS), ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_names_and_text_with_controls_are_refused_naming_column_and_character(
    store: GraphStore, tmp_path: Path, character: str
) -> None:
    load_dataset(MINI, store)
    bad = f"ab{character}c"
    societies = [  # a bad evidence clause is a bad provenance, reported on its own: a row of its own
        {**NEW_SOCIETY, "name": bad, "name_zh": bad, "aliases": ["fine", bad], "description": bad},
        {**NEW_SOCIETY, "id": "society:later", "evidence": bad},
    ]
    serves = [
        {**NEW_SERVES, "from": "society:cmes", "role": bad},
        {**NEW_SERVES, "from": "society:csee", "evidence": bad},
    ]
    files = {"societies.json": json.dumps(societies), "relationships.json": json.dumps(serves)}
    got = _refused(store, write_dataset(tmp_path / "controls", files))
    what = "a control character" if character != "\ud800" else "a lone surrogate, which no XML file can hold"
    problem = f"holds {CONTROLS[character]}, {what}, at character 3; remove it"
    where = [f"societies.json, row 1, column {c!r}: " for c in ("name", "name_zh", "aliases", "description")]
    where += [
        "societies.json, row 2, column 'evidence': ",
        "relationships.json, row 1, column 'role': ",
        "relationships.json, row 2, column 'evidence': ",
    ]
    assert sorted(g.split(": ", 1)[0] + ": " for g in got) == sorted(where), got
    assert all(problem in g for g in got), got


def test_tabs_and_line_breaks_are_kept_in_text(store: GraphStore, tmp_path: Path) -> None:
    society = {**NEW_SOCIETY, "name": "Tab\tseparated", "description": "line one\r\nline two\rthree"}
    load_dataset(write_dataset(tmp_path / "breaks", {"societies.csv": _csv([society])}), store)
    node = store.get_node("society:late")
    assert node is not None
    assert (node.name, node.description) == ("Tab\tseparated", "line one\nline two\nthree")
