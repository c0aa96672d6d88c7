"""Reading tabular source files (CSV, XLSX, JSON) into rows of text cells, with located errors."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
import time
import zipfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any

from graph_service.core.cells import unmarked_cell
from graph_service.core.errors import DataError, PayloadTooLarge, RowError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ReadBudget",
    "Table",
    "Workbook",
    "decode_text",
    "read_table",
    "reading_budget",
]

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".json")
MAX_CELL = 100_000
"""Longest cell a reader accepts at all; the ontology's own limits are tighter per field."""
MAX_JSON_DEPTH = 3
"""A data file is a list of flat objects; anything deeper is refused before parsing."""
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
"""A sheet's grid (A1:XFD1048576), as every spreadsheet program has it."""
LIST_SEPARATOR = "|"
"""What separates the items of a list (aliases) in one cell."""


class Table:
    """The rows of one file (or sheet), each a mapping from column to stripped text or ``None``.

    ``rows`` holds (row number, cells); the header is row 1, so the first data row is 2.
    ``errors`` holds what could not be read; such rows are absent from ``rows``.

    A table is kept the way its reader makes it cheapest: a CSV file column by column
    (:meth:`column` gives one column's values, one per row, as a list), a workbook or a
    JSON file row by row. Either form gives the other on demand, so a caller checks a
    big file a column at a time and builds a row's mapping only for the rows it reports on.
    """

    def __init__(
        self,
        name: str,
        columns: list[str],
        rows: list[tuple[int, dict[str, str | None]]] | None = None,
        errors: list[RowError] | None = None,
    ) -> None:
        self.name = name
        self.columns = columns
        self.errors: list[RowError] = [] if errors is None else errors
        self._rows: list[tuple[int, dict[str, str | None]]] | None = [] if rows is None else rows
        self._numbers: list[int] | None = None
        self._values: dict[str, list[str | None]] | None = None

    @classmethod
    def of_columns(
        cls,
        name: str,
        columns: list[str],
        numbers: list[int],
        values: dict[str, list[str | None]],
        errors: list[RowError],
    ) -> Table:
        """A table given column-wise: the row numbers, and for each column its values in row order."""
        table = cls(name, columns, errors=errors)
        table._rows = None
        table._numbers = numbers
        table._values = values
        return table

    def __len__(self) -> int:
        return len(self.numbers) if self._rows is None else len(self._rows)

    @property
    def numbers(self) -> list[int]:
        """The row number of each row, in order."""
        if self._numbers is None:
            self._numbers = [n for n, _ in self.rows]
        return self._numbers

    def column(self, name: str) -> list[str | None]:
        """The values of one column, one per row (``None`` for a blank cell or a column the file lacks)."""
        if self._values is None:
            self._values = {}
        values = self._values.get(name)
        if values is None:
            if self._rows is None:
                values = [None] * len(self)
            else:
                values = [cells.get(name) for _, cells in self._rows]
            self._values[name] = values
        return values

    def cells(self, index: int) -> dict[str, str | None]:
        """The cells of the row at ``index`` (a position in :attr:`rows`, not a row number)."""
        if self._rows is not None:
            return self._rows[index][1]
        return {column: self.column(column)[index] for column in self.columns}

    @property
    def rows(self) -> list[tuple[int, dict[str, str | None]]]:
        """Each row's number and its cells."""
        if self._rows is None:
            values = [self.column(c) for c in self.columns]
            self._rows = (
                [
                    (number, dict(zip(self.columns, cells, strict=True)))
                    for number, cells in zip(self.numbers, zip(*values, strict=True), strict=True)
                ]
                if values
                else [(number, {}) for number in self.numbers]
            )
        return self._rows

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {len(self)} rows, {len(self.errors)} errors)"


def read_table(
    path: Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    display_name: str | None = None,
    max_bytes: int | None = None,
) -> Table:
    """Read one data file.

    Args:
        path: a ``.csv``, ``.xlsx`` or ``.json`` file.
        encoding: force a CSV encoding; by default UTF-8 (with or without BOM) or GB18030.
        sheet: the sheet of a workbook to read (default: the first).
        display_name: how errors name the file (default: its name).
        max_bytes: refuse a file larger than this.

    Raises:
        DataError: when the file as a whole cannot be read (wrong format, bad encoding).
        PayloadTooLarge: when the file is over ``max_bytes``.
    """
    name = display_name or path.name
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise PayloadTooLarge(
            f"{name} is {path.stat().st_size:,} bytes, over the limit of {max_bytes:,}; "
            "split it into several files or raise INNOGRAPH_MAX_FILE_BYTES."
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        budget().check_time(name)
        return _read_csv(path.read_bytes(), name, encoding)
    if suffix == ".xlsx":
        with Workbook(path, name) as book:
            return book.table(sheet)
    if suffix == ".json":
        budget().check_time(name)
        return _read_json(path.read_bytes(), name)
    raise DataError(
        [RowError(name, None, None, f"unsupported file type {suffix!r}; use .csv, .xlsx or .json")]
    )


def decode_text(data: bytes, name: str, encoding: str | None = None) -> str:
    """Decode a text file: the forced encoding, else UTF-8 (BOM dropped), else GB18030.

    Raises:
        DataError: naming the byte offset where decoding failed.
    """
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except LookupError:
            raise DataError([RowError(name, None, None, f"unknown encoding {encoding!r}")]) from None
        except UnicodeDecodeError as exc:
            raise DataError(
                [RowError(name, None, None, f"not valid {encoding} at byte {exc.start}")]
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise DataError(
                [
                    RowError(
                        name,
                        None,
                        None,
                        f"neither UTF-8 nor GB18030/GBK (first bad byte at offset "
                        f"{utf8_error.start}); save it as UTF-8 or give --encoding",
                    )
                ]
            ) from None


def _read_csv(data: bytes, name: str, encoding: str | None) -> Table:
    text = decode_text(data, name, encoding)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataError(
            [
                RowError(
                    name,
                    None,
                    None,
                    f"contains a NUL byte on line {line}; is it really a CSV file?",
                )
            ]
        )
    split = _split_plain(text, name)
    if split is None:
        columns, numbers, raw, errors = _split_quoted(text, name)
    else:
        columns, numbers, raw = split
        errors = []
    marked = "'" in text  # else no cell can start with a text marker
    # a cell split from a text with no quotes holds no line break; if the text holds no other
    # white space either (ASCII, so the list below is the whole of it), no cell needs stripping
    spaced = split is None or not text.isascii() or any(c in text for c in _ASCII_SPACES)
    values = {column: _cleaned(cells, marked, spaced) for column, cells in zip(columns, raw, strict=True)}
    blank = _blank_rows(values, len(numbers))
    if blank:
        keep = [i for i in range(len(numbers)) if i not in blank]
        numbers = [numbers[i] for i in keep]
        values = {column: [cells[i] for i in keep] for column, cells in values.items()}
    return Table.of_columns(name, columns, numbers, values, errors)


def _split_plain(text: str, name: str) -> tuple[list[str], list[int], list[list[str]]] | None:
    """The header and the columns of a CSV text with no quotes, split with ``str.split``; ``None`` for any
    other text (quotes, bare carriage returns, rows of different lengths, a cell over the limit).

    Without a quote character a CSV record is one line and its cells are what lies between
    the commas, which is what the csv module reads too; splitting the whole text at once and
    taking every n-th cell as a column is several times faster than reading it record by
    record. Anything this does not cover goes to :func:`_split_quoted`, which reads it all.
    """
    if '"' in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:  # a carriage return on its own
            return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines or len(lines[0]) > MAX_CELL:
        return None
    columns = _header(lines[0].split(","), name)
    width = len(columns)
    if not columns or lines[0].count(",") != width - 1:
        return None
    body = lines[1:]
    commas = list(map(str.count, body, repeat(",")))
    if commas.count(width - 1) != len(commas):
        return None
    if len(text) > MAX_CELL and body and max(map(len, body)) > MAX_CELL:
        return None  # a line that long may hold a cell over the limit: let the csv module say where
    cells = ",".join(body).split(",") if body else []
    raw = [cells[j::width] for j in range(width)]
    return columns, list(range(2, len(body) + 2)), raw


def _split_quoted(text: str, name: str) -> tuple[list[str], list[int], list[list[str]], list[RowError]]:
    """The header, row numbers, raw columns and row errors of any CSV text, read by the csv module."""
    csv.field_size_limit(MAX_CELL)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: list[str] = []
    numbers: list[int] = []
    records: list[list[str]] = []
    errors: list[RowError] = []
    row_no = 0
    try:
        for cells in reader:
            row_no += 1
            if row_no == 1:
                columns = _header(cells, name)
                continue
            if len(cells) != len(columns):
                if any(c.strip() for c in cells):
                    errors.append(
                        RowError(
                            name,
                            row_no,
                            None,
                            f"has {len(cells)} cells but the header has {len(columns)} columns",
                        )
                    )
                continue
            numbers.append(row_no)
            records.append(cells)
    except csv.Error as exc:
        raise DataError([RowError(name, row_no + 1, None, f"malformed CSV: {_csv_problem(exc)}")]) from None
    if not columns:
        raise DataError([RowError(name, None, None, "is empty: it needs a header row")])
    raw = [list(column) for column in zip(*records, strict=True)] if records else [[] for _ in columns]
    return columns, numbers, raw, errors


_BLANK: dict[str, None] = {"": None}


_ASCII_SPACES = " \t\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""The ASCII characters ``str.strip`` takes for white space, besides the line feed."""


def _cleaned(cells: list[str], marked: bool, spaced: bool = True) -> list[str | None]:
    """A column's cells stripped (unless none can hold white space), blank ones ``None``, spreadsheet
    text markers dropped (see :func:`_cell`); a column of one value throughout is cleaned once."""
    if not cells:
        return []
    first = cells[0]
    if cells[-1] == first and cells.count(first) == len(cells):  # a column of ids ends at the first test
        return [_cell(first) if marked else first.strip() or None] * len(cells)
    values: list[str | None] = list(map(str.strip, cells)) if spaced else cells  # type: ignore[assignment]
    if "" in values:
        values = list(map(_BLANK.get, values, values))  # type: ignore[arg-type]
    if marked:
        values = [_cell(v) if v and v[0] == "'" else v for v in values]
    return values


def _blank_rows(values: dict[str, list[str | None]], size: int) -> set[int]:
    """The rows whose every cell is blank (a row has one in each column, so only rows blank in the first)."""
    if not values or not size:
        return set()
    columns = list(values.values())
    first = columns[0]
    if None not in first:
        return set()
    return {
        i for i, value in enumerate(first) if value is None and all(column[i] is None for column in columns)
    }


def _csv_problem(exc: csv.Error) -> str:
    """What the csv module's complaint means, in the words of someone editing the file."""
    problem = str(exc)
    if "field larger" in problem:
        return (
            f"a cell is longer than {MAX_CELL:,} characters "
            "(or a stray '\"' opened a quoted cell that is never closed)"
        )
    if "expected after '\"'" in problem:
        return 'a quoted cell goes on after its closing \'"\'; quote the whole cell and write a quote inside it as ""'
    if "unexpected end of data" in problem:
        return "a quoted cell starting in this row is never closed (a stray '\"')"
    return problem


class ReadBudget:
    """What one load may spend reading its files: workbook cells (rows count as cells) and time.

    A workbook is read by the cells it really holds, never by the size its ``<dimension>``
    claims; each cell read is paid for here, so a sheet of a million empty rows or cells is
    refused as soon as it has cost its budget, wherever the workbook sits (an upload, inside a
    zipped dataset, in a directory).
    """

    def __init__(self, cells: int | None = None, seconds: float | None = None) -> None:
        self.cells = cells
        self.seconds = seconds
        self.spent = 0
        self.deadline = None if seconds is None else time.monotonic() + seconds

    @property
    def left(self) -> int | None:
        """Cells still to spend (``None``: no limit)."""
        return None if self.cells is None else max(self.cells - self.spent, 0)

    def spend(self, cells: int, name: str) -> None:
        """Pay for ``cells`` cells of ``name``; refuse the load once the budget is gone."""
        self.spent += cells
        if self.cells is not None and self.spent > self.cells:
            raise PayloadTooLarge(
                f"{name}: the upload holds more than {self.cells:,} workbook cells (empty ones and rows "
                "included), the limit of INNOGRAPH_MAX_CELLS; delete unused rows and columns, or split it"
            )
        if self.spent & 0x3FFF == 0 or cells > 0x3FFF:
            self.check_time(name)

    def check_time(self, name: str) -> None:
        """Refuse the load once it has run past its time limit."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise PayloadTooLarge(
                f"{name}: the load took longer than its limit of {self.seconds:g} s "
                "(INNOGRAPH_LOAD_TIMEOUT) and was cancelled; nothing was written. Split the data "
                "into smaller uploads, or load it with `innograph load`"
            )


_BUDGET: ContextVar[ReadBudget | None] = ContextVar("innograph_read_budget", default=None)


def budget() -> ReadBudget:
    """The budget of the load running in this context (unlimited outside :func:`reading_budget`)."""
    return _BUDGET.get() or ReadBudget()


@contextmanager
def reading_budget(limits: ReadBudget) -> Iterator[ReadBudget]:
    """Read every file inside the block under one budget."""
    token = _BUDGET.set(limits)
    try:
        yield limits
    finally:
        _BUDGET.reset(token)


class Workbook:
    """An ``.xlsx`` workbook opened once: its archive checked, then each sheet read by its real cells.

    Raises (on opening):
        DataError: not a workbook, or a damaged one.
        PayloadTooLarge: a workbook whose parts expand like a bomb or past their limits.
    """

    def __init__(self, path: Path, name: str | None = None, *, max_bytes: int | None = None) -> None:
        from openpyxl.reader.excel import ExcelReader  # heavy; only for workbooks

        from loaders.archive import check_workbook

        self.name = name or path.name
        check_workbook(path, name=self.name, **({"max_bytes": max_bytes} if max_bytes else {}))
        budget().check_time(self.name)
        reader = None
        self._counted: dict[str, int] = {}
        try:
            reader = ExcelReader(path, read_only=True, data_only=True)
            # every sheet's cells are paid for before openpyxl opens it: opening a sheet whose
            # <dimension> is missing (or comes late) parses all of it
            limits = budget()
            for part in reader.archive.namelist():
                if "worksheets/" in part and part.endswith(".xml"):
                    self._counted[part] = _count_cells(reader.archive, part, limits.left)
                    limits.spend(self._counted[part], self.name)
            reader.read()
            missing = [
                sheet.name
                for sheet, rel in reader.parser.find_sheets()
                if rel.target not in reader.valid_files
            ]
        except PayloadTooLarge:
            if reader is not None:
                _close_archive(reader.archive)
            raise
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            if reader is not None:
                _close_archive(reader.archive)
            raise DataError(
                [RowError(self.name, None, None, f"not a readable XLSX workbook ({type(exc).__name__})")]
            ) from None
        self._book = reader.wb
        if missing:  # openpyxl would leave such a sheet out without a word
            self.close()
            raise DataError(
                [
                    RowError(
                        self.name,
                        None,
                        None,
                        f"not a readable XLSX workbook: sheet {missing[0]!r} has no content in the file; "
                        "open and save it again in a spreadsheet program",
                    )
                ]
            )

    def __enter__(self) -> Workbook:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the workbook's file."""
        _close_archive(self._book._archive)  # type: ignore[attr-defined]

    @property
    def sheet_names(self) -> list[str]:
        """The sheet names, in order."""
        return list(self._book.sheetnames)

    def table(self, sheet: str | None = None) -> Table:
        """One sheet (default: the first) as a table; blank rows skipped, row numbers as the sheet's."""
        book = self._book
        if sheet is not None and sheet not in book.sheetnames:
            raise DataError([RowError(self.name, None, None, f"has no sheet {sheet!r}")])
        if not book.sheetnames:
            raise DataError([RowError(self.name, None, None, "holds no sheets")])
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        shown = f"{self.name}[{ws.title}]" if sheet else self.name
        if ws.sheet_state != "visible":  # data nobody reviewing the workbook can see is not loaded
            raise DataError(
                [
                    RowError(
                        shown, None, None, f"sheet {ws.title!r} is hidden; unhide it to load it, or delete it"
                    )
                ]
            )
        rows = self._rows(ws, shown)
        try:
            return _cells_to_table(shown, rows)
        except (DataError, PayloadTooLarge):
            raise
        except Exception as exc:  # a damaged sheet: openpyxl and the XML parser raise many kinds
            raise DataError(
                [RowError(shown, None, None, f"not a readable XLSX sheet ({type(exc).__name__})")]
            ) from None
        finally:  # the sheet's part stays open, and with it the file, until its reader is closed
            rows.close()

    def _rows(self, ws: Any, shown: str) -> Generator[tuple[int, list[dict[str, Any]]]]:
        """The sheet's rows as its XML holds them (number, cells), each paid for in the budget.

        The cells come straight from the sheet's parser, not from ``iter_rows``: openpyxl's
        read-only sheet walks the range its ``<dimension>`` claims (a 5 kB sheet can claim
        A1:XFD1048576) and drops rows past a dimension that claims too little.
        """
        limits = budget()
        book: Any = self._book  # the parts of it a sheet's parser needs are private to openpyxl
        paid = self._counted.get(ws._worksheet_path)
        if paid is None:  # a part outside worksheets/: counted now
            paid = _count_cells(book._archive, ws._worksheet_path, limits.left)
            limits.spend(paid, shown)  # a sheet of too many cells is refused before it is parsed
        seen = 0
        with book._archive.open(ws._worksheet_path) as source:
            parser = _cell_reader()(
                source,
                book.shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            for number, cells in parser.parse():
                seen += len(cells) + 1
                if seen > paid:  # cells the count missed (it cannot, but the budget does not rest on it)
                    limits.spend(seen - paid, shown)
                    paid = seen
                elif seen & 0xFFF < len(cells) + 1:
                    limits.check_time(shown)
                yield number, cells


def _close_archive(archive: zipfile.ZipFile) -> None:
    """Close a workbook's archive and its file, even when openpyxl left a part of it open (it does
    when a sheet's XML fails to parse as the workbook is opened), which would hold the file open."""
    fp = archive.fp
    archive.close()
    if fp is not None:
        fp.close()


_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]{0,40}:)?(?:c|row)[\s/>]")
"""The start of a cell or a row, with or without a namespace prefix (``<c ``, ``<x:row>``)."""


def _count_cells(archive: Any, part: str, enough: int | None) -> int:
    """The cells and rows a sheet's XML holds, counted by their tags as the part is unpacked (some
    ten times faster than parsing them), stopping once past ``enough``: a sheet of millions of cells
    is refused in a fraction of its parse time."""
    count = 0
    tail = b""
    with archive.open(part) as source:
        while chunk := source.read(1 << 20):
            text = tail + chunk
            cut = text.rfind(b"<")  # every tag before the last '<' is whole ('<' never occurs inside one)
            cut = len(text) if cut <= 0 else cut
            count += len(_CELL_TAG.findall(text, 0, cut))
            tail = text[cut:]
            if enough is not None and count > enough:
                return count
    return count + len(_CELL_TAG.findall(tail))


@functools.cache
def _cell_reader() -> Any:
    """openpyxl's sheet parser, reading a formula's saved result and marking a formula never calculated."""
    from openpyxl.utils import coordinate_to_tuple
    from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    text_tag = f"{{{SHEET_MAIN_NS}}}t"
    run_tag = f"{{{SHEET_MAIN_NS}}}r"

    class CellReader(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            if element.get("t") == "inlineStr":  # openpyxl builds a rich-text object for each: 3x slower
                return self._inline(element)
            cell: dict[str, Any] = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["data_type"] = "f"
            return cell

        def _inline(self, element: Any) -> dict[str, Any]:
            """An inline string cell: its plain text and its runs' text (as openpyxl's ``Text.content``,
            phonetic guides left out)."""
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            value = None
            child = element.find(INLINE_STRING)
            if child is not None:
                parts = [child.findtext(text_tag)] + [
                    run.findtext(text_tag) for run in child.findall(run_tag)
                ]
                value = "".join(part for part in parts if part is not None)
            return {"row": row, "column": column, "value": value, "data_type": "s", "style_id": 0}

    return CellReader


def _cells_to_table(name: str, rows: Iterator[tuple[int, list[dict[str, Any]]]]) -> Table:
    """A table from a sheet's rows: the header is row 1; a formula never calculated is refused."""
    table = Table(name=name, columns=[])
    width = 0
    for row_no, cells in rows:
        for cell in cells:
            if not (0 < cell["row"] <= MAX_ROWS and 0 < cell["column"] <= MAX_COLUMNS):
                raise DataError(
                    [
                        RowError(
                            name,
                            None,
                            None,
                            f"a cell lies outside a sheet's grid ({MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns); "
                            "the workbook is damaged: open and save it again in a spreadsheet program",
                        )
                    ]
                )
            if cell["data_type"] == "f" and cell["value"] is None:
                raise DataError(
                    [
                        RowError(
                            name,
                            row_no,
                            None,
                            f"cell {cell['column']} holds a formula with no saved result; open and save the "
                            "workbook in a spreadsheet program, or paste the values",
                        )
                    ]
                )
        if row_no == 1:
            header = [""] * (max((c["column"] for c in cells), default=0))
            for cell in cells:
                header[cell["column"] - 1] = "" if cell["value"] is None else str(cell["value"])
            table.columns = _header(header, name)
            width = len(table.columns)
            continue
        texts = [""] * width
        extra = 0
        for cell in cells:
            value = cell["value"]
            if value is None:
                continue
            text = _excel_text(value)
            if cell["column"] <= width:
                texts[cell["column"] - 1] = text
            elif text.strip():
                extra += 1
        if extra:
            table.errors.append(
                RowError(name, row_no, None, f"has {extra} value(s) right of the last header column")
            )
            continue
        if not any(t.strip() for t in texts):
            continue
        table.rows.append((row_no, {c: _cell(v) for c, v in zip(table.columns, texts, strict=True)}))
    if not table.columns:
        raise DataError([RowError(name, None, None, "is empty: it needs a header row")])
    return table


def _read_json(data: bytes, name: str) -> Table:
    text = decode_text(data, name)
    depth = max_depth = 0
    in_string = escaped = False
    for ch in text:  # refuse deep nesting before json.loads can recurse on it
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            max_depth = max(max_depth, depth)
            if max_depth > MAX_JSON_DEPTH:
                raise DataError([RowError(name, None, None, "nests deeper than a list of flat objects")])
        elif ch in "]}":
            depth -= 1
    try:
        doc = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DataError(
            [RowError(name, None, None, f"not valid JSON at line {exc.lineno}: {exc.msg}")]
        ) from None
    except ValueError as exc:  # a number of thousands of digits, or one past a float's range
        problem = f"holds a number that cannot be read ({str(exc)[:120]}); write it as text"
        raise DataError([RowError(name, None, None, problem)]) from None
    if not isinstance(doc, list):
        raise DataError([RowError(name, None, None, "must hold a JSON list of objects")])
    columns: list[str] = []
    table = Table(name=name, columns=columns)
    for index, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            table.errors.append(RowError(name, index, None, "is not a JSON object"))
            continue
        cells: dict[str, str | None] = {}
        bad = False
        for key, value in item.items():
            if key not in columns:
                columns.append(key)
            if isinstance(value, (dict, list)) and key not in ("aliases", "targets"):
                table.errors.append(RowError(name, index, key, "must be a plain value, not a list or object"))
                bad = True
                continue
            if isinstance(value, list):
                items = [str(v) for v in value]
                split = [v for v in items if LIST_SEPARATOR in v] if key == "aliases" else []
                if split:
                    table.errors.append(
                        RowError(
                            name,
                            index,
                            key,
                            f"alias {split[0][:200]!r} contains {LIST_SEPARATOR!r}, which separates aliases in "
                            "CSV files and exports, so it would come back as several aliases; "
                            "write it without the character",
                        )
                    )
                    bad = True
                    continue
                cells[key] = LIST_SEPARATOR.join(items)
            elif isinstance(value, dict):
                cells[key] = json.dumps(value, ensure_ascii=False)
            else:
                cells[key] = (
                    None
                    if value is None
                    else _cell(str(value) if not isinstance(value, bool) else str(value).lower())
                )
        if not bad:
            table.rows.append((index, cells))
    return table


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _header(cells: list[str], name: str) -> list[str]:
    columns = [c.strip().lstrip("\ufeff").lower() for c in cells]
    while columns and not columns[-1]:
        columns.pop()
    seen: set[str] = set()
    problems = []
    for position, column in enumerate(columns, start=1):
        if not column:
            problems.append(RowError(name, 1, None, f"header cell {position} is blank"))
        elif column in seen:
            problems.append(RowError(name, 1, column, "appears twice in the header"))
        seen.add(column)
    if problems:
        raise DataError(problems)
    return columns


def _cell(value: str) -> str | None:
    value = value.strip()
    if value[:1] == "'":
        value = unmarked_cell(value)  # a spreadsheet's text marker, as innograph's own CSV exports write it
    return value or None


def _excel_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)
