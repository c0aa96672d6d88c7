"""Helpers the test suites share: the mini dataset's counts, the graph's whole state, datasets on the fly."""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

from graph_service.core.store import GraphStore

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "data" / "mini"
MANIFEST = 'name = "{name}"\n\n[sources.corpus]\ntitle = "innograph test corpus"\n'

MINI_NODES = {
    "Agreement": 1,
    "Enterprise": 3,
    "Industry": 6,
    "Organization": 2,
    "Park": 1,
    "Program": 3,
    "Region": 3,
    "Society": 5,
    "Talent": 1,
}
"""Nodes per kind in tests/data/mini, counted by hand."""
MINI_RELATIONSHIPS = {
    "ADVISES": 1,
    "COVERS": 1,
    "FOCUSES_ON": 1,
    "HOSTS": 2,
    "LOCATED_IN": 4,
    "MEMBER_OF": 7,
    "OPERATES_IN": 3,
    "PARTICIPATES_IN": 3,
    "PARTY_TO": 2,
    "PART_OF": 5,
    "SERVES": 6,
}
"""Relationships per type in tests/data/mini, counted by hand."""


def graph_state(store: GraphStore) -> tuple[dict[str, Any], list[dict[str, Any]], list[Any]]:
    """Everything the graph holds: counts, every node's properties, every relationship's."""
    return (
        store.counts().model_dump(),
        [n.to_props() for n in store.iter_nodes()],
        [(r.key, r.to_props()) for r in store.iter_relationships()],
    )


def write_dataset(directory: Path, files: dict[str, str | bytes]) -> Path:
    """A dataset directory with a one-source manifest (key ``corpus``) and the given files."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dataset.toml").write_text(MANIFEST.format(name=directory.name), encoding="utf-8")
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (directory / name).write_bytes(data)
    return directory


WENZHOU = ROOT / "loaders" / "datasets" / "wenzhou"


def wenzhou_rows() -> dict[str, dict[str, int]]:
    """The rows of the bundled Wenzhou dataset, counted from its CSV files with the csv module
    (not the loader): nodes per kind and relationships per type. A load must hold exactly these."""
    files = tomllib.loads((WENZHOU / "dataset.toml").read_text(encoding="utf-8"))["files"]
    nodes: dict[str, int] = {}
    types: Counter[str] = Counter()
    for key, name in files.items():
        with (WENZHOU / name).open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        if key == "relationships":
            types.update(row["type"] for row in rows)
        elif rows:
            nodes[key] = len(rows)
    return {"nodes": dict(sorted(nodes.items())), "relationships": dict(sorted(types.items()))}
