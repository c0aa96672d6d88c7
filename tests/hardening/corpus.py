"""Helpers shared by the hardening tests: datasets written on the fly, and the graph's whole state."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from graph_service.store import GraphStore

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = ROOT / "tests" / "data" / "mini"
MANIFEST = 'name = "{name}"\n\n[sources.corpus]\ntitle = "innograph hardening corpus"\n'


def graph_state(store: GraphStore) -> tuple[dict[str, Any], list[dict[str, Any]], list[Any]]:
    """Everything the graph holds: counts, every node's properties, every relationship's."""
    return (
        store.counts().model_dump(),
        [n.to_props() for n in store.iter_nodes()],
        [(r.key, r.to_props()) for r in store.iter_relationships()],
    )


def write_dataset(directory: Path, files: dict[str, str | bytes]) -> Path:
    """A dataset directory with the corpus manifest and the given files."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dataset.toml").write_text(MANIFEST.format(name=directory.name), encoding="utf-8")
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (directory / name).write_bytes(data)
    return directory


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
