"""Unpacking an uploaded dataset (a zip of a dataset directory, or a workbook) safely.

A zip is refused when an entry's path would leave the target directory (``../``,
absolute paths, links), when it holds too many entries, when the unpacked total is
over a limit, or when an entry expands suspiciously (a zip bomb) — all checked from
the archive's directory before anything is written, and again while writing.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from graph_service.core.errors import DataError, PayloadTooLarge, RowError

__all__ = [
    "MAX_ENTRIES",
    "MAX_RATIO",
    "MAX_SHARED_STRINGS_BYTES",
    "MAX_UNPACKED_BYTES",
    "check_workbook",
    "unpack_dataset",
]

MAX_ENTRIES = 200
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_RATIO = 200
"""Largest accepted expansion of one entry (unpacked size / packed size) above 1 MiB."""
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024
"""Largest shared-strings part of a workbook (a reader holds it in memory whole)."""
MAX_PART_BYTES = 255
"""Longest folder or file name in an archive (the longest most file systems take), in UTF-8 bytes."""
MAX_NAME_BYTES = 1024
"""Longest entry name (its whole path) in an archive, in UTF-8 bytes."""
_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_CHUNK = 1 << 20


def unpack_dataset(archive: Path, target: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> Path:
    """Unpack a zipped dataset into ``target`` and return the directory holding ``dataset.toml``.

    Raises:
        DataError: not a zip, unsafe or unusable entry names, damaged or encrypted entries, or no
            manifest inside.
        PayloadTooLarge: too many entries, too large unpacked, or an entry that expands like a bomb.
    """
    name = archive.name
    zf = _open_zip(archive, name, "is not a readable zip archive")
    with zf:
        infos = _check(zf, name, max_bytes)
        root = target.resolve()
        written = 0
        for info in infos:
            if info.is_dir():
                continue
            dest = (root / info.filename).resolve()
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "wb") as out:
                for chunk in _entry_chunks(zf, info, name):
                    written += len(chunk)
                    if written > max_bytes:
                        raise PayloadTooLarge(f"{name} unpacks to more than {max_bytes:,} bytes")
                    out.write(chunk)
    manifests = sorted(root.rglob("dataset.toml"), key=lambda p: len(p.parts))
    if not manifests:
        raise DataError([RowError(name, None, None, "holds no dataset.toml; zip a dataset directory")])
    return manifests[0].parent


def check_workbook(path: Path, *, name: str | None = None, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Refuse a workbook (itself a zip) that would expand like a bomb before a reader opens it.

    Besides the archive checks, the shared strings (which a reader holds in memory whole) are
    limited to ``MAX_SHARED_STRINGS_BYTES``.
    """
    shown = name or path.name
    zf = _open_zip(path, shown, "not a readable XLSX workbook (it is not a zip archive)")
    with zf:
        for info in _check(zf, shown, max_bytes):
            if (
                info.filename.lower().endswith("sharedstrings.xml")
                and info.file_size > MAX_SHARED_STRINGS_BYTES
            ):
                raise PayloadTooLarge(
                    f"{shown}: its shared strings unpack to {info.file_size:,} bytes, over the limit of "
                    f"{MAX_SHARED_STRINGS_BYTES:,}; split the workbook"
                )


def _open_zip(path: Path, name: str, problem: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, struct.error):
        raise DataError([RowError(name, None, None, problem)]) from None


def _entry_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The bytes of one entry; a damaged one (bad CRC, broken deflate stream, cut short) is a DataError."""
    try:
        with zf.open(info) as src:
            while chunk := src.read(_CHUNK):
                yield chunk
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, NotImplementedError, RuntimeError) as exc:
        problem = "its checksum (CRC) does not match" if "CRC" in str(exc) else "it is damaged"
        raise DataError(
            [
                RowError(
                    name, None, None, f"entry {info.filename!r} cannot be unpacked: {problem}; zip it again"
                )
            ]
        ) from None


def _check(zf: zipfile.ZipFile, name: str, max_bytes: int) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PayloadTooLarge(f"{name} holds {len(infos):,} entries; at most {MAX_ENTRIES} are accepted")
    total = 0
    files: set[str] = set()
    folders: set[str] = set()
    for info in infos:
        entry = info.filename
        path = PurePosixPath(entry.replace("\\", "/"))

        def refuse(problem: str, entry: str = entry) -> DataError:
            return DataError([RowError(name, None, None, f"entry {entry[:300]!r} {problem}")])

        if not path.parts or not entry.strip("/\\"):
            raise DataError([RowError(name, None, None, "holds an entry with an empty name; zip it again")])
        if path.is_absolute() or ".." in path.parts or entry.startswith(("/", "\\")) or ":" in path.parts[0]:
            raise refuse("points outside the archive")
        if any(ord(c) < 32 or c == "\x7f" for c in entry):
            raise refuse("has a control character in its name; rename it")
        if len(entry.encode("utf-8")) > MAX_NAME_BYTES or any(
            len(part.encode("utf-8")) > MAX_PART_BYTES for part in path.parts
        ):
            raise refuse(
                f"has a name too long (at most {MAX_PART_BYTES} bytes per folder or file name, "
                f"{MAX_NAME_BYTES} in all); rename it"
            )
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise refuse("is a link; links are refused")
        if info.flag_bits & 0x1:
            raise refuse("is encrypted; zip it again without a password")
        if info.compress_type not in _METHODS:
            raise refuse(
                f"uses compression method {info.compress_type}, which is not supported; "
                "zip it again with the usual (deflate) compression"
            )
        key = "/".join(path.parts)
        if info.is_dir():
            folders.add(key)
        elif key in files:
            raise refuse("appears twice in the archive")
        else:
            files.add(key)
        folders.update("/".join(path.parts[:i]) for i in range(1, len(path.parts)))
        total += info.file_size
        if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PayloadTooLarge(
                f"entry {entry!r} of {name} expands {info.file_size // max(info.compress_size, 1)}-fold; refused as a zip bomb"
            )
    both = sorted(files & folders)
    if both:
        raise DataError(
            [RowError(name, None, None, f"entry {both[0][:300]!r} is both a file and a folder; rename one")]
        )
    if total > max_bytes:
        raise PayloadTooLarge(f"{name} unpacks to {total:,} bytes, over the limit of {max_bytes:,}")
    return infos
