"""Spreadsheet cells: text a spreadsheet shows as text, never runs as a formula, and back again.

Used by the loaders (reading cells), the queries (an answer as CSV) and the exports alike.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

__all__ = ["safe_cell", "unmarked_cell", "write_csv"]

_MARK_NEEDED = re.compile(r"'*[=+\-@\t\r]")
"""Text a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return at
the start), or that starts with quotes before one of those: the reader takes one quote off it, so
such text gets one more, and every value comes back as it was."""


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text: one starting like a formula gets a leading quote.

    >>> safe_cell("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> safe_cell(-3)
    '-3'
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    text = "" if value is None else str(value)
    if _MARK_NEEDED.match(text):
        return "'" + text
    return text


def unmarked_cell(text: str) -> str:
    """A cell read from a CSV file with the text marker :func:`safe_cell` adds taken off again.

    >>> unmarked_cell("'=HYPERLINK(1)"), unmarked_cell("''=1"), unmarked_cell("'quoted'")
    ('=HYPERLINK(1)', "'=1", "'quoted'")
    """
    if text[:1] == "'" and _MARK_NEEDED.match(text, 1):
        return text[1:]
    return text


def write_csv(rows: Iterable[Iterable[object]], header: Iterable[str]) -> str:
    """CSV text (with a BOM so spreadsheets read UTF-8) whose cells are neutralised by ``safe_cell``."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()
