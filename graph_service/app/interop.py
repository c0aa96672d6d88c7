"""Exports in the shapes other tools read as they are — networkx node-link JSON, Cytoscape.js
elements, Neo4j bulk-import files, a Kumu workbook — and writing any export whole or not at all.

Every export is written under a temporary name beside its target and renamed into place
when complete, so an interrupted or failed export leaves nothing half-written behind.

>>> export_whole(store, "nodelink", Path("city.json"))  # doctest: +SKIP
[PosixPath('city.json')]
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import NODE_MODELS, Node, NodeKind, Relationship, RelType
from graph_service.core.store import GraphStore

__all__ = [
    "DIRECTORY_FORMATS",
    "EXPORT_FORMATS",
    "NEO4J_ARRAY_DELIMITER",
    "ExportTargetError",
    "Format",
    "cytoscape_document",
    "export_whole",
    "kumu_sheets",
    "neo4j_import_command",
    "node_link_document",
    "write_neo4j_import",
]

Format = Literal["graphml", "gexf", "json", "nodelink", "cytoscape", "kumu", "csv", "neo4j-import"]
EXPORT_FORMATS: tuple[Format, ...] = get_args(Format)
DIRECTORY_FORMATS: frozenset[str] = frozenset({"csv", "neo4j-import"})
"""Formats written as a directory of files rather than one file."""
NEO4J_ARRAY_DELIMITER = "|"
"""Separates the items of a list property (``aliases``) in the Neo4j import files. The dataset
format splits aliases on the same character, so no alias holds it."""


class ExportTargetError(InvalidRequest):
    """The place an export should go cannot take it: a non-empty directory, or a path that
    cannot be written. The message names the path."""


def export_whole(
    store: GraphStore, fmt: Format, out: Path, *, force: bool = False, bom: bool = True
) -> list[Path]:
    """Write the whole graph in a format, complete or not at all; returns the files written.

    Args:
        store: the graph to export.
        fmt: one of :data:`EXPORT_FORMATS`; ``csv`` and ``neo4j-import`` write a directory.
        out: the file, or for a directory format the directory, to write.
        force: replace a directory that already holds files (refused otherwise).
        bom: start CSV files with a UTF-8 byte-order mark, so that Excel reads Chinese
            correctly (the Neo4j import files never carry one).

    Raises:
        ExportTargetError: ``out`` is a non-empty directory (without ``force``), a file where a
            directory is needed, or cannot be written.
    """
    directory = fmt in DIRECTORY_FORMATS
    token = secrets.token_hex(4)
    partial = out.parent / f".partial-{token}-{out.name}"
    try:
        _check_target(out, directory=directory, force=force)
        out.parent.mkdir(parents=True, exist_ok=True)
        written = _write(store, fmt, partial, bom=bom)
        _move_into_place(partial, out, directory=directory, token=token)
    except OSError as exc:
        raise ExportTargetError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        _remove(partial)
    return [out / p.relative_to(partial) if directory else out for p in written]


def node_link_document(nodes: Sequence[Node], rels: Sequence[Relationship]) -> dict[str, Any]:
    """The graph as networkx's node-link JSON with its default keys: ``networkx.node_link_graph``
    reads it back into a ``MultiDiGraph`` keyed by node id, one edge per relationship.

    An edge's ``source`` and ``target`` are its ends, so the provenance's source is called
    ``provenance_source`` here, on nodes and edges alike.
    """
    return {
        "directed": True,
        "multigraph": True,
        "graph": {},
        "nodes": [_renamed(n.to_props()) for n in nodes],
        "edges": [
            {
                "source": r.source,
                "target": r.target,
                "key": f"e{i}",
                "type": r.type.value,
                **_renamed(r.to_props()),
            }
            for i, r in enumerate(rels)
        ],
    }


def cytoscape_document(nodes: Sequence[Node], rels: Sequence[Relationship]) -> dict[str, Any]:
    """The graph as Cytoscape JSON: ``cy.json(doc)`` or ``cytoscape({elements: doc.elements})``
    in Cytoscape.js, and File ▸ Import ▸ Network from File (``.cyjs``) in Cytoscape.

    Every element's fields sit under ``data``; nodes are named by ``name`` and edges carry
    their relationship type as ``interaction``, the columns Cytoscape labels them by. As in
    :func:`node_link_document`, the provenance's source is ``provenance_source``.
    """
    return {
        "format_version": "1.0",
        "generated_by": "innograph",
        "target_cytoscapejs_version": "~2.1",
        "data": {"name": "innograph"},
        "elements": {
            "nodes": [{"data": _renamed(n.to_props())} for n in nodes],
            "edges": [
                {
                    "data": {
                        "id": f"e{i}",
                        "source": r.source,
                        "target": r.target,
                        "interaction": r.type.value,
                        **_renamed(r.to_props()),
                    }
                }
                for i, r in enumerate(rels)
            ],
        },
    }


def write_neo4j_import(nodes: Sequence[Node], rels: Sequence[Relationship], out: Path) -> list[Path]:
    """Files for ``neo4j-admin database import full``: one node file per label, one relationship
    file per type, headers in Neo4j's import format, and a README with the exact command.

    Nodes keep every property the Neo4j backend stores, ``id`` as the import id; numbers are
    typed (``companies:long``) and lists are arrays (``aliases:string[]``, items separated by
    :data:`NEO4J_ARRAY_DELIMITER`).
    """
    out.mkdir(parents=True, exist_ok=True)
    node_files: list[Path] = []
    for kind in NodeKind:
        members = [n for n in nodes if n.kind is kind]
        if members:
            node_files.append(_write_node_file(kind, members, out / f"nodes-{kind.value}.csv"))
    rel_files: list[Path] = []
    for rtype in RelType:
        chosen = [r for r in rels if r.type is rtype]
        if chosen:
            rel_files.append(
                _write_relationship_file(rtype, chosen, out / f"relationships-{rtype.value}.csv")
            )
    readme = out / "README.md"
    readme.write_text(_neo4j_readme(node_files, rel_files), encoding="utf-8")
    return [*node_files, *rel_files, readme]


def neo4j_import_command(node_files: Sequence[str], rel_files: Sequence[str], database: str = "neo4j") -> str:
    """The ``neo4j-admin`` command that imports the files (named relative to its directory)."""
    # The database comes first: after --relationships, a word would be read as one more file.
    lines = [
        f"neo4j-admin database import full {database}",
        f"--array-delimiter='{NEO4J_ARRAY_DELIMITER}'",
        "--multiline-fields=true",
        *(f"--nodes={f}" for f in node_files),
        *(f"--relationships={f}" for f in rel_files),
    ]
    return " \\\n  ".join(lines)


# -- helpers -------------------------------------------------------------------------------


def _check_target(out: Path, *, directory: bool, force: bool) -> None:
    if directory:
        if out.exists() and not out.is_dir():
            raise ExportTargetError(f"{out} is a file; this format writes a directory, give a directory path")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise ExportTargetError(
                f"{out} is a directory that already holds files; use --force to replace it"
            )
    elif out.is_dir():
        raise ExportTargetError(f"{out} is a directory; this format writes one file, give a file path")


def _write(store: GraphStore, fmt: Format, target: Path, *, bom: bool) -> list[Path]:
    from graph_service.app.exports import export_graph

    if fmt in ("graphml", "gexf", "json", "csv"):
        written = export_graph(store, fmt, target)
        if fmt == "csv" and not bom:
            for path in written:
                if path.suffix == ".csv":
                    path.write_bytes(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        return written
    nodes = list(store.iter_nodes())
    rels = list(store.iter_relationships())
    if fmt == "neo4j-import":
        return write_neo4j_import(nodes, rels, target)
    if fmt == "kumu":
        return [_write_kumu(nodes, rels, target)]
    make: Callable[[Sequence[Node], Sequence[Relationship]], dict[str, Any]] = (
        node_link_document if fmt == "nodelink" else cytoscape_document
    )
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(make(nodes, rels), fh, ensure_ascii=False, indent=1)
    return [target]


KUMU_ELEMENTS = ["Label", "Type", "Description", "Tags", "ID", "Chinese name", "Basis", "Source"]
"""The columns of the Elements sheet: Kumu's own four, then fields of ours it keeps as they are."""
KUMU_CONNECTIONS = ["From", "To", "Type", "Description", "Basis", "Source"]
"""The columns of the Connections sheet: From and To name elements by their Label."""


def kumu_sheets(nodes: Sequence[Node], rels: Sequence[Relationship]) -> dict[str, list[list[str]]]:
    """The rows of a Kumu workbook: ``Elements`` (one per entity) and ``Connections`` (one per
    relationship), each with its header first.

    Kumu joins a connection to its elements by their Label, so a Label must be unique: an
    entity whose name another entity shares is labelled with its id after the name. Tags are
    the entity's kind and, where it has them, level and group, separated by ``|`` as Kumu reads
    them; the description is the entity's, else the evidence that supports it.
    """
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.name] = counts.get(node.name, 0) + 1
    labels = {n.id: n.name if counts[n.name] == 1 else f"{n.name} ({n.id})" for n in nodes}
    elements = [list(KUMU_ELEMENTS)]
    for node in nodes:
        tags = [node.kind.value, *(str(v) for k in ("level", "group") if (v := getattr(node, k, None)))]
        elements.append(
            [
                labels[node.id],
                node.kind.value,
                node.description or node.provenance.evidence,
                "|".join(tags),
                node.id,
                node.name_zh or "",
                node.provenance.basis.value,
                node.provenance.source,
            ]
        )
    connections = [list(KUMU_CONNECTIONS)]
    for rel in rels:
        if rel.source in labels and rel.target in labels:
            connections.append(
                [
                    labels[rel.source],
                    labels[rel.target],
                    rel.type.value,
                    rel.provenance.evidence,
                    rel.provenance.basis.value,
                    rel.provenance.source,
                ]
            )
    return {"Elements": elements, "Connections": connections}


def _write_kumu(nodes: Sequence[Node], rels: Sequence[Relationship], target: Path) -> Path:
    from openpyxl import Workbook

    from graph_service.core.cells import safe_cell

    book = Workbook(write_only=True)
    for title, rows in kumu_sheets(nodes, rels).items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append([safe_cell(cell) for cell in row])
    book.save(target)
    return target


def _renamed(props: dict[str, Any]) -> dict[str, Any]:
    """Properties with the provenance's ``source`` renamed, clear of an edge's ``source`` end."""
    return {("provenance_source" if k == "source" else k): v for k, v in props.items()}


def _move_into_place(partial: Path, out: Path, *, directory: bool, token: str) -> None:
    if not directory:
        os.replace(partial, out)
        return
    if not out.exists():
        partial.rename(out)
        return
    # A directory cannot be replaced in one step: move the old one aside first, and back should
    # the new one fail to take its place.
    old = out.parent / f".replaced-{token}-{out.name}"
    out.rename(old)
    try:
        partial.rename(out)
    except OSError:
        old.rename(out)
        raise
    _remove(old)


def _remove(path: Path) -> None:
    """Remove a file or directory if it is there; a failure here must not hide the first one."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _neo4j_type(annotation: Any) -> str:
    """The Neo4j import type of a model field: ``long``, ``double``, ``boolean``, ``string[]`` or
    ``""`` for a plain string."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _neo4j_type(inner[0]) if len(inner) == 1 else ""
    if origin in (list, tuple, set, frozenset):
        return "string[]"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "long"
    if annotation is float:
        return "double"
    return ""


def _node_columns(kind: NodeKind, members: Sequence[Node]) -> list[str]:
    fields = NODE_MODELS[kind].model_fields
    seen: dict[str, None] = {}
    for node in members:
        seen.update(dict.fromkeys(node.to_props()))
    ordered = [name for name in fields if name in seen]
    return ["id", *[c for c in ordered if c != "id"], *sorted(c for c in seen if c not in fields)]


def _write_node_file(kind: NodeKind, members: Sequence[Node], path: Path) -> Path:
    fields = NODE_MODELS[kind].model_fields
    columns = _node_columns(kind, members)
    header = []
    for column in columns:
        typed = _neo4j_type(fields[column].annotation) if column in fields else ""
        header.append("id:ID" if column == "id" else f"{column}:{typed}" if typed else column)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*header, ":LABEL"])
        for node in members:
            props = node.to_props()
            writer.writerow([*(_neo4j_cell(props.get(c)) for c in columns), kind.value])
    return path


def _write_relationship_file(rtype: RelType, rels: Sequence[Relationship], path: Path) -> Path:
    seen: dict[str, None] = {}
    for rel in rels:
        seen.update(dict.fromkeys(rel.to_props()))
    columns = list(seen)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([":START_ID", ":END_ID", ":TYPE", *columns])
        for rel in rels:
            props = rel.to_props()
            writer.writerow([rel.source, rel.target, rtype.value, *(props.get(c) for c in columns)])
    return path


def _neo4j_cell(value: object) -> object:
    if isinstance(value, list):  # the dataset format refuses the delimiter inside an item
        return NEO4J_ARRAY_DELIMITER.join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _neo4j_readme(node_files: Sequence[Path], rel_files: Sequence[Path]) -> str:
    command = neo4j_import_command([p.name for p in node_files], [p.name for p in rel_files])
    return f"""# Neo4j bulk-import files

Written by `innograph export --format neo4j-import`: one node file per label
(`nodes-<Label>.csv`) and one relationship file per type (`relationships-<TYPE>.csv`),
UTF-8 without a byte-order mark, headers in the format of `neo4j-admin database import`.

- `id:ID` is each node's innograph id (`society:cmes`), kept as its `id` property; `:LABEL`
  is its kind. Relationships join ids with `:START_ID` and `:END_ID`; `:TYPE` is their type.
- Numbers are typed (`companies:long`, `participants:long`); lists are string arrays
  (`aliases:string[]`) whose items are separated by `{NEO4J_ARRAY_DELIMITER}`, hence
  `--array-delimiter`. Texts may span lines, hence `--multiline-fields=true`.
- Every node and relationship keeps its provenance: `source`, `evidence`, `basis`.

Stop the Neo4j server (the import writes a new database, `neo4j` below), then run in this
directory:

```
{command}
```

Add `--overwrite-destination` to replace a database that exists. Start the server again
afterwards; on Neo4j Enterprise, `CREATE DATABASE <name>` makes an imported database other
than `neo4j` available.
"""
