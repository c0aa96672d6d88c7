"""The hardening bad-input corpus: files and uploads that must be refused clearly, leaving the graph as it was.

This adds to the corpus of ``tests/contract/test_loaders.py`` (38 cases) the kinds it lacks:
mixed encodings, width-folded duplicates, duplicates across files and kinds, longer PART_OF
cycles, dates and numbers written wrongly, huge cells and files, workbook formulas, merged
cells and hidden sheets, more JSON shapes, and hostile uploads to ``POST /api/datasets``.
Every case loads on top of the mini dataset and checks the graph is unchanged afterwards.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from corpus import MINI, graph_state, write_dataset, zipped, zipped_dataset
from fastapi.testclient import TestClient
from openpyxl import Workbook

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.errors import DataError, GraphServiceError, PayloadTooLarge
from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore
from loaders.load import load_dataset

SOC = "id,name,level,source,basis\n"
REL = "from,type,to,source,evidence,basis\n"
IND = "id,name,taxonomy,source,basis\n"
PARK = "id,name,companies,source,basis\n"


@dataclass(frozen=True)
class Bad:
    """A dataset built by ``build`` and the error it must give: its type, and fragments of its message."""

    name: str
    build: Callable[[Path], Path]
    fragments: tuple[str, ...]
    error: type[GraphServiceError] = DataError
    options: dict[str, Any] = field(default_factory=dict, compare=False)


def csv_case(name: str, files: dict[str, str | bytes], *fragments: str, **options: Any) -> Bad:
    return Bad(name, lambda tmp: write_dataset(tmp / name, files), fragments, options=options)


def workbook(path: Path, fill: Callable[[Workbook], None]) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    sources = book.create_sheet("sources")
    sources.append(["key", "title"])
    sources.append(["corpus", "innograph hardening corpus"])
    sheet = book.create_sheet("societies")
    sheet.append(["id", "name", "level", "source", "basis"])
    fill(book)
    book.save(path)
    return path


def xlsx_case(name: str, fill: Callable[[Workbook], None], *fragments: str, **options: Any) -> Bad:
    return Bad(name, lambda tmp: workbook(tmp / f"{name}.xlsx", fill), fragments, options=options)


def _row(*cells: object) -> Callable[[Workbook], None]:
    return lambda book: book["societies"].append(list(cells))


def _merged(book: Workbook) -> None:
    sheet = book["societies"]
    sheet.append(["society:x", "X", "national", "corpus", "stated"])
    sheet.append(["society:y", None, "national", "corpus", "stated"])
    sheet.merge_cells("B2:B3")  # a reader sees the value in the top-left cell only


def _hidden(state: str, title: str) -> Callable[[Workbook], None]:
    def fill(book: Workbook) -> None:
        book["societies"].append(["society:x", "X", "national", "corpus", "stated"])
        sheet = book.create_sheet(title) if title not in book.sheetnames else book[title]
        if title == "organizations":
            sheet.append(["id", "name", "source", "basis"])
            sheet.append(["organization:hidden", "Hidden", "corpus", "stated"])
        sheet.sheet_state = state

    return fill


def _right_of_header(book: Workbook) -> None:
    book["societies"].append(["society:x", "X", "national", "corpus", "stated", "stray"])


def _big_xlsx(tmp: Path) -> Path:
    return workbook(
        tmp / "big.xlsx",
        lambda book: [
            book["societies"].append([f"society:s{i}", f"S{i} " + "x" * 200, "national", "corpus", "stated"])
            for i in range(300)
        ],
    )


def _not_a_workbook(tmp: Path) -> Path:
    path = tmp / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    return path


def _mixed_bytes() -> bytes:
    good = "id,name,name_zh,source,basis\nsociety:x,X,中国学会,corpus,stated\n".encode()
    return good + b"society:y,Y,\x80\xff,corpus,stated\n"  # neither UTF-8 nor GB18030 after UTF-8 text


THREE_INDUSTRIES = IND + "".join(f"industry:a:{c},{c.upper()},a,corpus,stated\n" for c in "xyz")
NUMBER = "Input should be a valid integer"
DATE = "is not a date"
FORMULA = "holds a formula with no saved result"

CASES = [
    # encodings
    csv_case(
        "mixed-encodings-in-one-file", {"societies.csv": _mixed_bytes()}, "neither UTF-8 nor GB18030/GBK"
    ),
    csv_case(
        "gbk-file-forced-as-utf8",
        {"societies.csv": "id,name,source,basis\nsociety:x,学会,corpus,stated\n".encode("gbk")},
        "not valid utf-8 at byte",
        encoding="utf-8",
    ),
    csv_case(
        "unknown-forced-encoding", {"societies.csv": SOC}, "unknown encoding 'klingon'", encoding="klingon"
    ),
    # names and ids
    csv_case(
        "full-width-and-ascii-name-twice",
        {
            "societies.csv": "name,source,basis\nＳｏｃｉｅｔｙ ｏｆ Ｔｅｓｔｓ,corpus,stated\nSociety of Tests,corpus,stated\n"
        },
        "duplicate id 'society:society-of-tests', first at societies.csv, row 2",
    ),
    csv_case(
        "same-id-in-json-and-csv",
        {
            "societies.csv": SOC + "society:x,X,national,corpus,stated\n",
            "societies.json": json.dumps(
                [{"id": "society:x", "name": "X", "source": "corpus", "basis": "stated"}]
            ),
        },
        "has both societies.csv and societies.json; keep one",
    ),
    csv_case(
        "id-with-another-kinds-prefix",
        {
            "societies.csv": SOC + "society:x,X,national,corpus,stated\n",
            "organizations.csv": "id,name,source,basis\nsociety:x,X,corpus,stated\n",
        },
        "id 'society:x' does not start with 'organization:'",
    ),
    csv_case(
        "duplicate-header-column",
        {"societies.csv": "id,name,Name,source,basis\n"},
        "appears twice in the header",
    ),
    # relationships
    csv_case(
        "part-of-cycle-of-three",
        {
            "industries.csv": THREE_INDUSTRIES,
            "relationships.csv": REL
            + "industry:a:x,PART_OF,industry:a:y,corpus,e,inferred\n"
            + "industry:a:y,PART_OF,industry:a:z,corpus,e,inferred\n"
            + "industry:a:z,PART_OF,industry:a:x,corpus,e,inferred\n",
        },
        "would close a cycle",
    ),
    csv_case(
        "part-of-cycle-through-the-graph",
        {  # mini holds industrial-internet PART_OF digital; this closes digital → x → industrial-internet
            "industries.csv": IND + "industry:a:x,X,a,corpus,stated\n",
            "relationships.csv": REL
            + "industry:wz:digital,PART_OF,industry:a:x,corpus,e,inferred\n"
            + "industry:a:x,PART_OF,industry:local:industrial-internet,corpus,e,inferred\n",
        },
        "would close a cycle",
    ),
    csv_case(
        "member-of-self-loop",
        {"relationships.csv": REL + "society:cmes,MEMBER_OF,society:cmes,corpus,e,stated\n"},
        "MEMBER_OF",
    ),
    # dates and numbers
    *(
        csv_case(
            f"date-{slug}",
            {"societies.csv": f"id,name,since,source,basis\nsociety:x,X,{text},corpus,stated\n"},
            DATE,
        )
        for slug, text in [
            ("day-first", "31/05/2021"),
            ("month-13", "2021-13-01"),
            ("words", "yesterday"),
            ("no-dashes", "20210531"),
            ("february-30", "2021-02-30"),
        ]
    ),
    *(
        csv_case(f"number-{slug}", {"parks.csv": PARK + f"park:x,X,{text},corpus,stated\n"}, message)
        for slug, text, message in [
            ("in-words", "forty-seven", NUMBER),
            ("decimal", "47.5", NUMBER),
            ("exponent", "1e3", NUMBER),
            ("full-width-digits", "４７", NUMBER),
            ("negative", "-3", "greater than or equal to 0"),
        ]
    ),
    # sizes
    csv_case(
        "cell-over-100k-characters",
        {
            "societies.csv": "id,name,description,source,basis\nsociety:x,X,"
            + "a" * 100_001
            + ",corpus,stated\n"
        },
        "a cell is longer than 100,000 characters",
    ),
    csv_case(
        "description-of-50k-characters",
        {
            "societies.csv": "id,name,description,source,basis\nsociety:x,X,"
            + "a" * 50_000
            + ",corpus,stated\n"
        },
        "is 50,000 characters long",
    ),
    Bad(
        "csv-over-the-file-size-limit",
        lambda tmp: write_dataset(
            tmp / "big", {"societies.csv": SOC + "society:x,X,national,corpus,stated\n" * 100}
        ),
        ("societies.csv is 3,527 bytes, over the limit of 1,000", "INNOGRAPH_MAX_FILE_BYTES"),
        PayloadTooLarge,
        {"max_file_bytes": 1000},
    ),
    Bad(
        "xlsx-over-the-file-size-limit",
        _big_xlsx,
        ("big.xlsx is", "over the limit of 5,000", "INNOGRAPH_MAX_FILE_BYTES"),
        PayloadTooLarge,
        {"max_file_bytes": 5000},
    ),
    # JSON shapes
    csv_case(
        "json-unknown-field",
        {
            "societies.json": json.dumps(
                [{"id": "society:x", "name": "X", "source": "corpus", "basis": "stated", "is_admin": True}]
            )
        },
        "'is_admin'",
        "is not a column of societies (Society)",
    ),
    csv_case(
        "json-top-level-object",
        {"societies.json": json.dumps({"id": "society:x"})},
        "must hold a JSON list of objects",
    ),
    csv_case(
        "json-list-of-lists", {"societies.json": json.dumps([["society:x", "X"]])}, "is not a JSON object"
    ),
    csv_case(
        "json-100k-deep",
        {"societies.json": "[" * 100_000 + "]" * 100_000},
        "nests deeper than a list of flat objects",
    ),
    csv_case(
        "json-object-as-value",
        {
            "societies.json": json.dumps(
                [{"id": "society:x", "name": {"en": "X"}, "source": "corpus", "basis": "stated"}]
            )
        },
        "must be a plain value, not a list or object",
    ),
    csv_case(
        "csv-unsupported-file-in-manifest",
        {"societies.csv": SOC, "dataset.toml": 'name = "x"\n[files]\nSociety = "societies.txt"\n'},
        "societies.txt",
    ),
    # workbooks
    xlsx_case(
        "xlsx-formula-never-calculated",
        _row("society:x", '=CONCAT("a","b")', "national", "corpus", "stated"),
        FORMULA,
    ),
    xlsx_case(
        "xlsx-formula-in-an-enum-column",
        _row("society:x", "X", '=IF(1,"national","city")', "corpus", "stated"),
        FORMULA,
    ),
    xlsx_case("xlsx-merged-cells", _merged, "row 3, column 'name'", "Field required"),
    xlsx_case("xlsx-hidden-sheet", _hidden("hidden", "societies"), "sheet 'societies' is hidden"),
    xlsx_case(
        "xlsx-very-hidden-sheet", _hidden("veryHidden", "organizations"), "sheet 'organizations' is hidden"
    ),
    xlsx_case("xlsx-value-right-of-the-header", _right_of_header, "right of the last header column"),
    Bad("xlsx-not-a-workbook", _not_a_workbook, ("broken.xlsx",)),
]


def test_the_hardening_corpus_adds_at_least_thirty_file_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_file_is_refused_clearly_and_the_graph_is_unchanged(
    store: GraphStore, tmp_path: Path, case: Bad
) -> None:
    load_dataset(MINI, store)
    before = graph_state(store)
    with pytest.raises(case.error) as info:
        load_dataset(case.build(tmp_path), store, **case.options)
    for fragment in case.fragments:
        assert fragment in info.value.message, info.value.message
    assert "Traceback" not in info.value.message
    assert graph_state(store) == before


# -- odd files that must load ------------------------------------------------------------------


def test_one_file_per_encoding_in_one_dataset_loads_every_name_intact(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    path = write_dataset(
        tmp_path / "mixed",
        {
            "societies.csv": (
                "id,name,name_zh,source,basis\nsociety:x,X,中国金属学会,corpus,stated\n"
            ).encode("gbk"),
            "organizations.csv": "id,name,name_zh,source,basis\norganization:y,Y,温州科协,corpus,stated\n".encode(
                "utf-8-sig"
            ),
            "parks.csv": "id,name,name_zh,source,basis\npark:z,Z,𠮷园,corpus,stated\n".encode("gb18030"),
        },
    )
    load_dataset(path, store)
    names = {i: store.get_node(i).name_zh for i in ("society:x", "organization:y", "park:z")}  # type: ignore[union-attr]
    assert names == {"society:x": "中国金属学会", "organization:y": "温州科协", "park:z": "𠮷园"}


def test_a_full_width_name_resolves_to_the_one_existing_node(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    nodes_before = store.counts().total_nodes
    path = write_dataset(
        tmp_path / "width",
        {
            "relationships.csv": REL
            + "Ｃｈｉｎｅｓｅ Ｍｅｃｈａｎｉｃａｌ Ｅｎｇｉｎｅｅｒｉｎｇ Ｓｏｃｉｅｔｙ,SERVES,鞋业,corpus,e,inferred\n"
        },
    )
    load_dataset(path, store)
    assert store.counts().total_nodes == nodes_before
    key = ("society:cmes", "SERVES", "industry:wz:footwear")
    assert list(store.get_relationships([key])) == [key]


def test_a_formula_with_a_saved_result_loads_the_result(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "cached.xlsx", _row("society:x", '=CONCAT("Society ","X")', "national", "corpus", "stated")
    )
    _save_result(path, "Society X")  # as a spreadsheet program would after calculating
    store = EmbeddedStore(None)
    load_dataset(path, store)
    assert store.get_node("society:x").name == "Society X"  # type: ignore[union-attr]


def _save_result(path: Path, result: str) -> None:
    with zipfile.ZipFile(path) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    for name, data in entries.items():
        if name.startswith("xl/worksheets/") and b"<f>" in data:
            text = data.decode()
            text = re.sub(
                r'<c r="B2"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?',
                rf'<c r="B2" t="str"><f>\2</f><v>{result}</v>',
                text,
            )
            entries[name] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


# -- uploads to POST /api/datasets ------------------------------------------------------------

KEY = "hardening-key"


@pytest.fixture
def upload(tmp_path: Path) -> Any:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, max_upload_bytes=2_000_000)
    app = create_app(settings, store)

    def post(filename: str, body: bytes, **params: Any) -> tuple[int, dict[str, Any], bool]:
        before = graph_state(app.state.holder.get())
        with TestClient(app) as client:
            response = client.post(
                "/api/datasets", files={"file": (filename, body)}, headers={"X-API-Key": KEY}, params=params
            )
            unchanged = graph_state(app.state.holder.get()) == before
        return response.status_code, response.json(), unchanged

    return post


def _bomb() -> bytes:
    return zipped({"d/dataset.toml": 'name = "d"\n', "d/societies.csv": b"0" * 60_000_000})


def _bad_rows_zip(tmp: Path) -> bytes:
    return zipped_dataset(
        write_dataset(tmp / "rows", {"societies.csv": SOC + "society:x,X,global,corpus,stated\n"})
    )


UPLOADS: list[tuple[str, str, Callable[[Path], bytes], int, str]] = [
    (
        "dotdot-path",
        "d.zip",
        lambda t: zipped({"../evil/dataset.toml": "x"}),
        422,
        "points outside the archive",
    ),
    (
        "absolute-path",
        "d.zip",
        lambda t: zipped({"/etc/dataset.toml": "x"}),
        422,
        "points outside the archive",
    ),
    (
        "windows-drive",
        "d.zip",
        lambda t: zipped({"C:/x/dataset.toml": "x"}),
        422,
        "points outside the archive",
    ),
    (
        "backslash-dotdot",
        "d.zip",
        lambda t: zipped({"..\\evil\\dataset.toml": "x"}),
        422,
        "points outside the archive",
    ),
    (
        "symlink",
        "d.zip",
        lambda t: zipped({"d/dataset.toml": "/etc/passwd"}, links=("d/dataset.toml",)),
        422,
        "is a link",
    ),
    ("zip-bomb", "d.zip", lambda t: _bomb(), 413, "zip bomb"),
    ("xlsx-bomb", "d.xlsx", lambda t: _bomb(), 413, "zip bomb"),
    ("too-many-entries", "d.zip", lambda t: zipped({f"d/{i}.csv": "" for i in range(201)}), 413, "entries"),
    ("not-a-zip", "d.zip", lambda t: b"just text", 422, "is not a readable zip archive"),
    ("not-a-workbook", "d.xlsx", lambda t: b"just text", 422, "not a readable XLSX workbook"),
    (
        "wrong-suffix",
        "d.csv",
        lambda t: b"id,name\n",
        422,
        "upload a .zip of a dataset directory or an .xlsx workbook",
    ),
    ("no-manifest", "d.zip", lambda t: zipped({"d/societies.csv": SOC}), 422, "holds no dataset.toml"),
    ("over-the-upload-limit", "d.zip", lambda t: b"\0" * 2_100_000, 413, "over the limit of 2,000,000 bytes"),
    ("bad-rows", "d.zip", _bad_rows_zip, 422, "'global' is not allowed"),
]


@pytest.mark.parametrize(
    ("case", "filename", "build", "status", "fragment"), UPLOADS, ids=[u[0] for u in UPLOADS]
)
def test_hostile_upload_is_refused_and_the_graph_is_unchanged(
    upload: Any,
    tmp_path: Path,
    case: str,
    filename: str,
    build: Callable[[Path], bytes],
    status: int,
    fragment: str,
) -> None:
    code, body, unchanged = upload(filename, build(tmp_path))
    assert code == status, body
    assert fragment in body["error"]["message"], body
    assert "Traceback" not in json.dumps(body)
    assert unchanged
    assert not (tmp_path.parent / "evil").exists()


def test_an_unknown_query_parameter_on_the_upload_is_refused(upload: Any, tmp_path: Path) -> None:
    code, body, unchanged = upload("d.zip", _bad_rows_zip(tmp_path), force="true")
    assert code == 422
    assert "unknown query parameter(s): 'force'" in body["error"]["message"]
    assert unchanged
