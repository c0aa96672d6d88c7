"""Helpers shared by the hardening tests: datasets written on the fly, and the graph's whole state."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from shared import MINI, ROOT, graph_state, write_dataset

__all__ = [
    "MINI",
    "ROOT",
    "SOCIETY_HEADER",
    "graph_state",
    "rezipped",
    "shared_strings_bomb",
    "sheet_xml",
    "societies",
    "societies_part",
    "with_cells",
    "with_dimension",
    "workbook_bytes",
    "write_dataset",
    "zip_with_bad_crc",
    "zip_with_headers",
    "zipped",
    "zipped_dataset",
]


def zipped(files: dict[str, bytes | str], *, links: tuple[str, ...] = ()) -> bytes:
    """A zip archive in memory; names in ``links`` are stored as symbolic links."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = 0o120777 << 16
            zf.writestr(info, content)
    return buffer.getvalue()


def zipped_dataset(directory: Path) -> bytes:
    """A dataset directory zipped as the upload route expects it."""
    return zipped({f"{directory.name}/{p.name}": p.read_bytes() for p in sorted(directory.iterdir())})


# -- workbooks and archives built byte by byte ----------------------------------------------------

SOCIETY_HEADER = ["id", "name", "level", "source", "basis"]


def societies(count: int, prefix: str = "s") -> list[list[str]]:
    """``count`` good society rows citing the ``corpus`` source."""
    return [
        [f"society:{prefix}{i}", f"Society {prefix.upper()}{i}", "national", "corpus", "stated"]
        for i in range(count)
    ]


def workbook_bytes(rows: list[list[str]], *, header: list[str] | None = None, alone: bool = False) -> bytes:
    """A dataset workbook (a ``sources`` sheet, then ``societies`` with ``rows``) as openpyxl saves it;
    ``alone``: the societies sheet only, as a data file of a dataset directory."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.worksheets[0])
    if not alone:
        sources = book.create_sheet("sources")
        sources.append(["key", "title"])
        sources.append(["corpus", "innograph hardening corpus"])
    sheet = book.create_sheet("societies")
    sheet.append(header or SOCIETY_HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def societies_part(data: bytes) -> str:
    """The part holding the ``societies`` sheet of a :func:`workbook_bytes` workbook (its last sheet)."""
    names = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("xl/worksheets/sheet")]
    return max(names, key=lambda n: int(n.removeprefix("xl/worksheets/sheet").removesuffix(".xml")))


def rezipped(data: bytes, change: dict[str, bytes | None], *, level: int | None = None) -> bytes:
    """The zip ``data`` with parts replaced (bytes), removed (``None``) or added, deflated again."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        for info in source.infolist():
            if info.filename in change:
                continue
            out.writestr(info.filename, source.read(info))
        for name, part in change.items():
            if part is not None:
                out.writestr(name, part)
    return buffer.getvalue()


def sheet_xml(data: bytes, part: str | None = None) -> bytes:
    """One part of a workbook (default: its societies sheet)."""
    return zipfile.ZipFile(io.BytesIO(data)).read(part or societies_part(data))


def with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with its societies sheet claiming ``ref`` as its ``<dimension>``."""
    import re

    xml = sheet_xml(data)
    xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="' + ref.encode() + b'"/>', xml)
    return rezipped(data, {societies_part(data): xml})


MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def with_cells(
    data: bytes, rows: int, *, columns: int = 5, first: int = 1000, prefixed: bool = False
) -> bytes:
    """The workbook with ``rows`` rows of ``columns`` empty cells appended to its societies sheet (real
    cells, which a reader must walk: no dimension trick). ``prefixed``: the tags carry a namespace
    prefix (``<x:c>``), as valid XML as without, which a count of plain tags misses."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(c).encode() for c in range(1, columns + 1)]
    p = b"x:" if prefixed else b""
    declare = b' xmlns:x="' + MAIN_NS + b'"' if prefixed else b""
    body = b"".join(
        b'<%srow%s r="%d">' % (p, declare, r)
        + b"".join(b'<%sc r="%s%d"/>' % (p, col, r) for col in letters)
        + b"</%srow>" % p
        for r in range(first, first + rows)
    )
    xml = sheet_xml(data).replace(b"</sheetData>", body + b"</sheetData>")
    return rezipped(data, {societies_part(data): xml})


def shared_strings_bomb(megabytes: int = 300) -> bytes:
    """A workbook whose shared strings unpack to ``megabytes`` MB of one repeated string."""
    unit = b"<si><t>x</t></si>"
    count = megabytes * 1024 * 1024 // len(unit)
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
        % (count, count)
        + unit * count
        + b"</sst>"
    )
    data = workbook_bytes(societies(1))
    return rezipped(data, {"xl/sharedStrings.xml": xml}, level=9)


def zip_with_headers(
    files: dict[str, bytes], name: str, *, flag: int | None = None, method: int | None = None
) -> bytes:
    """A stored zip of ``files`` whose entry ``name`` claims another general-purpose flag or compression
    method in its local and central headers (its data is left as it is)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for entry, content in files.items():
            zf.writestr(entry, content)
    data = bytearray(buffer.getvalue())
    encoded = name.encode()
    for signature, name_at, length_at, flag_at, method_at in (
        (b"PK\x03\x04", 30, 26, 6, 8),
        (b"PK\x01\x02", 46, 28, 8, 10),
    ):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            start = at + 4
            length = int.from_bytes(data[at + length_at : at + length_at + 2], "little")
            if bytes(data[at + name_at : at + name_at + length]) != encoded:
                continue
            if flag is not None:
                data[at + flag_at : at + flag_at + 2] = flag.to_bytes(2, "little")
            if method is not None:
                data[at + method_at : at + method_at + 2] = method.to_bytes(2, "little")
    return bytes(data)


def zip_with_bad_crc(files: dict[str, bytes], name: str) -> bytes:
    """A stored zip of ``files`` whose entry ``name`` has one byte of its data changed after its CRC was taken."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for entry, content in files.items():
            zf.writestr(entry, content)
    data = bytearray(buffer.getvalue())
    content = files[name]
    at = data.find(content)
    data[at] ^= 0x01
    return bytes(data)
