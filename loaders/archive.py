"""Unpacking an uploaded dataset (a zip of a dataset directory, or a workbook) safely.

A zip is refused when an entry's path would leave the target directory (``../``,
absolute paths, links), when it holds too many entries, when the unpacked total is
over a limit, or when an entry expands suspiciously (a zip bomb) — all checked from
the archive's directory before anything is written, and again while writing.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from graph_service.errors import DataError, PayloadTooLarge, RowError

__all__ = ["MAX_ENTRIES", "MAX_RATIO", "MAX_UNPACKED_BYTES", "check_workbook", "unpack_dataset"]

MAX_ENTRIES = 200
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_RATIO = 200
"""Largest accepted expansion of one entry (unpacked size / packed size) above 1 MiB."""
_CHUNK = 1 << 20


def unpack_dataset(archive: Path, target: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> Path:
    """Unpack a zipped dataset into ``target`` and return the directory holding ``dataset.toml``.

    Raises:
        DataError: not a zip, unsafe paths, or no manifest inside.
        PayloadTooLarge: too many entries, too large unpacked, or an entry that expands like a bomb.
    """
    name = archive.name
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise DataError([RowError(name, None, None, "is not a readable zip archive")]) from None
    with zf:
        infos = _check(zf, name, max_bytes)
        root = target.resolve()
        written = 0
        for info in infos:
            if info.is_dir():
                continue
            dest = (root / info.filename).resolve()
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise PayloadTooLarge(f"{name} unpacks to more than {max_bytes:,} bytes")
                    out.write(chunk)
    manifests = sorted(root.rglob("dataset.toml"), key=lambda p: len(p.parts))
    if not manifests:
        raise DataError([RowError(name, None, None, "holds no dataset.toml; zip a dataset directory")])
    return manifests[0].parent


def check_workbook(path: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Refuse a workbook (itself a zip) that would expand like a bomb before a reader opens it."""
    try:
        with zipfile.ZipFile(path) as zf:
            _check(zf, path.name, max_bytes)
    except zipfile.BadZipFile:
        raise DataError([RowError(path.name, None, None, "is not a valid .xlsx workbook")]) from None


def _check(zf: zipfile.ZipFile, name: str, max_bytes: int) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PayloadTooLarge(f"{name} holds {len(infos):,} entries; at most {MAX_ENTRIES} are accepted")
    total = 0
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if (
            path.is_absolute()
            or ".." in path.parts
            or info.filename.startswith(("/", "\\"))
            or ":" in path.parts[0]
        ):
            raise DataError(
                [RowError(name, None, None, f"entry {info.filename!r} points outside the archive")]
            )
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise DataError(
                [RowError(name, None, None, f"entry {info.filename!r} is a link; links are refused")]
            )
        total += info.file_size
        if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PayloadTooLarge(
                f"entry {info.filename!r} of {name} expands {info.file_size // max(info.compress_size, 1)}-fold; refused as a zip bomb"
            )
    if total > max_bytes:
        raise PayloadTooLarge(f"{name} unpacks to {total:,} bytes, over the limit of {max_bytes:,}")
    return infos
