"""Exporting the graph for other tools: GraphML and GEXF (Gephi), JSON, and CSV (spreadsheets).

The CSV export is a dataset directory, so ``innograph load`` reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from graph_service.core.cells import write_csv
from graph_service.core.ontology import Node, NodeKind, Relationship
from graph_service.core.store import GraphStore

__all__ = ["ExportFormat", "export_graph"]

ExportFormat = Literal["graphml", "gexf", "json", "csv"]


def export_graph(store: GraphStore, fmt: ExportFormat, out: Path) -> list[Path]:
    """Write the whole graph in a format; returns the files written.

    Args:
        store: the graph to export.
        fmt: ``graphml`` or ``gexf`` (one file, opens in Gephi), ``json`` (one file),
            or ``csv`` (a dataset directory: a file per kind, relationships, manifest).
        out: the file (or, for csv, the directory) to write.
    """
    nodes = list(store.iter_nodes())
    rels = list(store.iter_relationships())
    if fmt == "json":
        doc = {
            "nodes": [n.to_props() for n in nodes],
            "relationships": [
                {"from": r.source, "type": r.type.value, "to": r.target, **r.to_props()} for r in rels
            ],
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        return [out]
    if fmt == "csv":
        return _export_dataset(nodes, rels, out)
    return [_export_networkx(nodes, rels, fmt, out)]


def _flat(props: dict[str, Any]) -> dict[str, str | int | float | bool]:
    return {k: "|".join(v) if isinstance(v, list) else v for k, v in props.items()}


def _export_networkx(nodes: list[Node], rels: list[Relationship], fmt: ExportFormat, out: Path) -> Path:
    import networkx as nx  # the projection Gephi's formats are written from

    graph = nx.MultiDiGraph()
    for node in nodes:
        graph.add_node(
            node.id,
            label=node.name,
            **{k: v for k, v in _flat(node.to_props()).items() if k != "id"},
        )
    for index, rel in enumerate(rels):
        graph.add_edge(
            rel.source,
            rel.target,
            # The key becomes the GraphML edge id, which must be unique: Gephi refuses
            # or drops edges whose id repeats.
            key=f"e{index}",
            label=rel.type.value,
            # Not 'type': GEXF reserves it for directed/undirected/mutual.
            rel_type=rel.type.value,
            **_flat(rel.to_props()),
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(graph, out, encoding="utf-8")
    else:
        _write_gexf(graph, out)
    return out


def _write_gexf(graph: Any, out: Path) -> None:
    """networkx's GEXF, made valid against the GEXF 1.2 schema that strict readers check."""
    from networkx.readwrite.gexf import GEXFWriter

    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    writer.add_graph(graph)
    # networkx always writes <graph name="…">, an attribute the schema does not allow there.
    for element in writer.xml.iter("graph"):
        element.attrib.pop("name", None)
    with open(out, "wb") as fh:
        writer.write(fh)


def _export_dataset(nodes: list[Node], rels: list[Relationship], out: Path) -> list[Path]:
    from loaders.manifest import FILE_STEMS  # the dataset layout is the loaders' to define
    from loaders.records import RELATIONSHIP_COLUMNS, kind_columns

    out.mkdir(parents=True, exist_ok=True)
    written = []
    sources = sorted({n.provenance.source for n in nodes} | {r.provenance.source for r in rels})
    for kind in NodeKind:
        members = [n for n in nodes if n.kind is kind]
        if not members:
            continue
        columns = kind_columns(kind)
        rows = []
        for node in members:
            props = node.to_props()
            rows.append(
                ["|".join(props[c]) if isinstance(props.get(c), list) else props.get(c, "") for c in columns]
            )
        path = out / f"{FILE_STEMS[kind]}.csv"
        path.write_text(write_csv(rows, columns), encoding="utf-8")
        written.append(path)
    columns = RELATIONSHIP_COLUMNS
    rel_rows = []
    for rel in rels:
        props = {"from": rel.source, "type": rel.type.value, "to": rel.target, **rel.to_props()}
        rel_rows.append([props.get(c, "") for c in columns])
    path = out / "relationships.csv"
    path.write_text(write_csv(rel_rows, columns), encoding="utf-8")
    written.append(path)
    manifest = ['name = "export"', 'title = "Exported by innograph"', ""]
    for key in sources:  # a JSON string without \u escapes of non-ASCII is a TOML basic string
        quoted = json.dumps(key, ensure_ascii=False)
        manifest += [f"[sources.{quoted}]", f"title = {quoted}", ""]
    (out / "dataset.toml").write_text("\n".join(manifest), encoding="utf-8")
    written.append(out / "dataset.toml")
    return written
