"""Helpers shared by the hardening tests: datasets written on the fly, and the graph's whole state."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from shared import MINI, ROOT, graph_state, write_dataset

__all__ = ["MINI", "ROOT", "graph_state", "write_dataset", "zipped", "zipped_dataset"]


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
