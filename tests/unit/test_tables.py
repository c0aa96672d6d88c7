"""Reading source files into rows: encodings, malformed CSV, JSON and workbooks, each error located."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook

from graph_service.core.errors import DataError, PayloadTooLarge, RowError
from loaders.tables import MAX_CELL, MAX_JSON_DEPTH, decode_text, read_table

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"

HEADER = "id,name,name_zh,source,basis\n"
CHINESE = "中国金属学会"
BEYOND_GBK = "𠮷"  # U+20BB7: GB18030 writes it in four bytes; GBK cannot write it at all


@dataclass(frozen=True)
class FileCase:
    """A corpus file that cannot be read as a table, and the one error it must give."""

    case: str
    file: str
    row: int | None
    problem: str


FILE_CASES = [
    FileCase("empty-file", "societies.csv", None, "is empty: it needs a header row"),
    FileCase("nul-byte", "societies.csv", None, "contains a NUL byte on line 3; is it really a CSV file?"),
    FileCase(
        "stray-quote",
        "societies.csv",
        2,
        "malformed CSV: a quoted cell goes on after its closing '\"'; quote the whole cell "
        'and write a quote inside it as ""',
    ),
    FileCase(
        "unclosed-quote",
        "societies.csv",
        3,
        "malformed CSV: a quoted cell starting in this row is never closed (a stray '\"')",
    ),
    FileCase("blank-header-cell", "societies.csv", 1, "header cell 2 is blank"),
    FileCase("invalid-json", "societies.json", None, "not valid JSON at line 3: Expecting ',' delimiter"),
    FileCase("json-too-deep", "societies.json", None, "nests deeper than a list of flat objects"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.case)
def test_unreadable_corpus_files_give_one_located_error(case: FileCase) -> None:
    with pytest.raises(DataError) as info:
        read_table(BAD / case.case / case.file)
    assert info.value.errors == [RowError(case.file, case.row, None, case.problem)]


def test_ragged_row_is_an_error_of_that_row_only(tmp_path: Path) -> None:
    table = read_table(BAD / "ragged-row" / "societies.csv")
    assert table.rows == []
    assert table.errors == [RowError("societies.csv", 2, None, "has 9 cells but the header has 8 columns")]
    short = tmp_path / "short.csv"
    short.write_text(HEADER + "society:a,A,,notes,stated\nsociety:b,B,notes\n", encoding="utf-8")
    table = read_table(short)
    assert [n for n, _ in table.rows] == [2]
    assert table.errors == [RowError("short.csv", 3, None, "has 3 cells but the header has 5 columns")]


def test_header_only_file_is_a_table_without_rows() -> None:
    table = read_table(BAD / "header-only" / "relationships.csv")
    assert table.columns == [
        "from", "type", "to", "from_kind", "to_kind", "since", "source", "evidence", "basis",
    ]  # fmt: skip
    assert table.rows == []
    assert table.errors == []


def test_rows_are_numbered_as_a_spreadsheet_does(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        HEADER + 'society:a,"A, with a comma",,notes,stated\n\n , , , , \n'
        'society:b,"B on\ntwo lines",,notes,stated\nsociety:c,C,,notes,stated\n',
        encoding="utf-8",
    )
    table = read_table(path)
    assert [(n, cells["id"], cells["name"]) for n, cells in table.rows] == [
        (2, "society:a", "A, with a comma"),
        (5, "society:b", "B on\ntwo lines"),
        (6, "society:c", "C"),
    ]


def test_cells_are_trimmed_and_blank_cells_are_none(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        " ID , Name ,NAME_ZH,source,basis\n  society:a  ,  A  ,   ,notes,stated\n", encoding="utf-8"
    )
    table = read_table(path)
    assert table.columns == ["id", "name", "name_zh", "source", "basis"]
    assert table.rows == [
        (2, {"id": "society:a", "name": "A", "name_zh": None, "source": "notes", "basis": "stated"})
    ]


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,name,Name,source,basis\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_table(path)
    assert info.value.errors == [RowError("s.csv", 1, "name", "appears twice in the header")]


def test_spreadsheet_text_marker_before_a_formula_character_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        HEADER + "society:a,'=SUM(A1),'+86,notes,stated\nsociety:b,'-minus,'plain,notes,stated\n",
        encoding="utf-8",
    )
    table = read_table(path)
    assert [(c["name"], c["name_zh"]) for _, c in table.rows] == [("=SUM(A1)", "+86"), ("-minus", "'plain")]


# -- encodings --------------------------------------------------------------------------


def chinese_csv() -> str:
    return HEADER + f"society:csm,Chinese Society for Metals,{CHINESE},notes,stated\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_chinese_spreadsheet_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "societies.csv"
    path.write_bytes(chinese_csv().encode(encoding))
    table = read_table(path)
    assert table.columns[0] == "id"  # a BOM does not stick to the first column's name
    assert table.rows == [
        (
            2,
            {
                "id": "society:csm",
                "name": "Chinese Society for Metals",
                "name_zh": CHINESE,
                "source": "notes",
                "basis": "stated",
            },
        )
    ]


def test_gb18030_characters_beyond_gbk_survive(tmp_path: Path) -> None:
    path = tmp_path / "societies.csv"
    name = f"{BEYOND_GBK}家学会"
    path.write_bytes((HEADER + f"society:x,X,{name},notes,stated\n").encode("gb18030"))
    assert read_table(path).rows[0][1]["name_zh"] == name


def test_forced_encoding_is_used(tmp_path: Path) -> None:
    path = tmp_path / "societies.csv"
    path.write_bytes(chinese_csv().encode("gbk"))
    assert read_table(path, encoding="gbk").rows[0][1]["name_zh"] == CHINESE
    with pytest.raises(DataError) as info:
        read_table(path, encoding="utf-8")
    offset = chinese_csv().index(CHINESE)  # everything before it is ASCII: characters are bytes
    assert info.value.errors == [RowError("societies.csv", None, None, f"not valid utf-8 at byte {offset}")]


def test_unknown_forced_encoding_is_refused() -> None:
    with pytest.raises(DataError) as info:
        decode_text(b"id\n", "s.csv", encoding="klingon")
    assert info.value.errors == [RowError("s.csv", None, None, "unknown encoding 'klingon'")]


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused() -> None:
    with pytest.raises(DataError) as info:
        decode_text(b"id,name\nsociety:a,\xff\xfe\n", "s.csv")
    assert info.value.errors == [
        RowError(
            "s.csv",
            None,
            None,
            "neither UTF-8 nor GB18030/GBK (first bad byte at offset 18); save it as UTF-8 or give --encoding",
        )
    ]


# -- limits and formats -----------------------------------------------------------------


def test_cell_over_the_reader_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "society:a," + "x" * (MAX_CELL + 1) + ",,notes,stated\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_table(path)
    (error,) = info.value.errors
    assert error.row == 2
    assert f"a cell is longer than {MAX_CELL:,} characters" in error.problem


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(chinese_csv(), encoding="utf-8")
    size = path.stat().st_size
    with pytest.raises(PayloadTooLarge) as info:
        read_table(path, max_bytes=size - 1)
    assert info.value.message.startswith(f"s.csv is {size:,} bytes, over the limit of {size - 1:,}")
    assert read_table(path, max_bytes=size).rows


def test_unsupported_file_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "societies.txt"
    path.write_text("id\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_table(path)
    assert info.value.errors == [
        RowError("societies.txt", None, None, "unsupported file type '.txt'; use .csv, .xlsx or .json")
    ]


def test_json_lists_of_flat_objects(tmp_path: Path) -> None:
    path = tmp_path / "societies.json"
    doc = [
        {"id": "society:a", "name": "A", "aliases": ["AA", "甲"], "companies": 47, "flag": True, "x": None},
        {"id": "society:b", "name": "B", "targets": {"doctoral_station": 3}},
        "not an object",
        {"id": "society:c", "name": {"en": "C"}},
    ]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    table = read_table(path)
    assert table.rows == [
        (
            1,
            {
                "id": "society:a",
                "name": "A",
                "aliases": "AA|甲",
                "companies": "47",
                "flag": "true",
                "x": None,
            },
        ),
        (2, {"id": "society:b", "name": "B", "targets": '{"doctoral_station": 3}'}),
    ]
    assert table.errors == [
        RowError("societies.json", 3, None, "is not a JSON object"),
        RowError("societies.json", 4, "name", "must be a plain value, not a list or object"),
    ]


def test_json_must_be_a_list(tmp_path: Path) -> None:
    path = tmp_path / "societies.json"
    path.write_text('{"id": "society:a"}', encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_table(path)
    assert info.value.errors == [RowError("societies.json", None, None, "must hold a JSON list of objects")]


def test_deep_json_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")  # would exhaust json's recursion
    with pytest.raises(DataError, match="nests deeper than a list of flat objects"):
        read_table(path)
    ok = tmp_path / "ok.json"
    ok.write_text('[{"id": "society:a", "aliases": ["x"]}]', encoding="utf-8")
    assert MAX_JSON_DEPTH == 3
    assert read_table(ok).rows == [(1, {"id": "society:a", "aliases": "x"})]
    brackets = tmp_path / "brackets.json"
    brackets.write_text('[{"id": "society:a", "name": "[[[{{{ not nesting \\" [[["}]', encoding="utf-8")
    assert read_table(brackets).rows[0][1]["name"] == '[[[{{{ not nesting " [[['


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_workbook_cells_become_text(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "w.xlsx",
        {
            "parks": [
                ["id", "name", "companies", "since", "level", None],
                ["park:a", "A", 47, dt.datetime(2021, 5, 31), 1.5, None],
                [None, None, None, None, None, None],
                ["park:b", "B 园区", 47.0, dt.date(2021, 5, 1), "national"],
            ]
        },
    )
    table = read_table(path)
    assert table.columns == ["id", "name", "companies", "since", "level"]
    assert table.rows == [
        (2, {"id": "park:a", "name": "A", "companies": "47", "since": "2021-05-31", "level": "1.5"}),
        (
            4,
            {"id": "park:b", "name": "B 园区", "companies": "47", "since": "2021-05-01", "level": "national"},
        ),
    ]


def test_workbook_values_right_of_the_header_are_a_row_error(tmp_path: Path) -> None:
    path = workbook(tmp_path / "w.xlsx", {"societies": [["id", "name"], ["society:a", "A", "stray"]]})
    table = read_table(path, sheet="societies", display_name="w.xlsx")
    assert table.rows == []
    assert table.errors == [
        RowError("w.xlsx[societies]", 2, None, "has 1 value(s) right of the last header column")
    ]


def test_workbook_without_the_sheet_or_not_a_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path / "w.xlsx", {"societies": [["id"]]})
    with pytest.raises(DataError) as info:
        read_table(path, sheet="talents")
    assert info.value.errors == [RowError("w.xlsx", None, None, "has no sheet 'talents'")]
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"id,name\nsociety:a,A\n")
    with pytest.raises(DataError) as info:
        read_table(fake)
    (error,) = info.value.errors
    assert error.problem.startswith("not a readable XLSX workbook")
