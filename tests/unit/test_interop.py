"""Exports opened by the tools people already use: Gephi's GEXF rules, networkx, igraph,
Cytoscape, Excel and Neo4j's bulk importer; and exports that are whole or absent."""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import igraph
import networkx as nx
import pytest
from shared import wenzhou_rows

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Node, Relationship

INNOGRAPH = Path(sys.executable).with_name("innograph")
GEXF = "{http://www.gexf.net/1.2draft}"

NODES = sum(wenzhou_rows()["nodes"].values())
RELATIONSHIPS = sum(wenzhou_rows()["relationships"].values())


def innograph(
    *args: str | Path,
    data_dir: Path,
    cwd: Path,
    check: bool = True,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the console script with its own data directory, on the embedded backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNOGRAPH_", "NEO4J_"))}
    env["INNOGRAPH_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [str(INNOGRAPH), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        preexec_fn=preexec_fn,
    )
    assert "Traceback" not in result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def wenzhou(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the bundled Wenzhou data loaded by ``innograph load``."""
    data_dir = tmp_path_factory.mktemp("wenzhou-data")
    innograph("load", data_dir=data_dir, cwd=data_dir)
    return data_dir


@pytest.fixture(scope="module")
def graph(wenzhou: Path) -> tuple[list[Node], list[Relationship]]:
    """What the store holds, to compare every export against."""
    store = EmbeddedStore(wenzhou / "graph.json")
    try:
        return list(store.iter_nodes()), list(store.iter_relationships())
    finally:
        store.close()


def flat(props: dict[str, Any]) -> dict[str, Any]:
    """Properties as the XML formats carry them: a list becomes one '|'-joined string."""
    return {k: "|".join(v) if isinstance(v, list) else v for k, v in props.items()}


def renamed(props: dict[str, Any]) -> dict[str, Any]:
    """Properties as the JSON formats carry them, where an edge's ``source`` is its start."""
    return {("provenance_source" if k == "source" else k): v for k, v in props.items()}


# -- GEXF: the rules of the GEXF 1.2 schema, checked one by one --------------------------------

# Attributes each element may carry, and those it must (schema gexf.xsd / data.xsd of 1.2draft).
GEXF_ATTRIBUTES = {
    "gexf": ({"version", "variant"}, {"version"}),
    "meta": ({"lastmodifieddate"}, set()),
    "creator": (set(), set()),
    "description": (set(), set()),
    "keywords": (set(), set()),
    "graph": (
        {"timeformat", "start", "startopen", "end", "endopen", "defaultedgetype", "idtype", "mode"},
        set(),
    ),
    "attributes": ({"class", "mode", "start", "startopen", "end", "endopen"}, {"class"}),
    "attribute": ({"id", "title", "type"}, {"id", "title", "type"}),
    "default": (set(), set()),
    "options": (set(), set()),
    "nodes": ({"count"}, set()),
    "node": ({"id", "label", "start", "startopen", "end", "endopen", "pid"}, {"id"}),
    "edges": ({"count"}, set()),
    "edge": (
        {"id", "type", "label", "source", "target", "weight", "start", "startopen", "end", "endopen"},
        {"id", "source", "target"},
    ),
    "attvalues": (set(), set()),
    "attvalue": ({"for", "value", "start", "startopen", "end", "endopen"}, {"for", "value"}),
}
GEXF_TYPES = {"integer", "long", "double", "float", "boolean", "liststring", "string", "anyURI"}


def test_gexf_keeps_every_rule_of_the_schema(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "wenzhou.gexf"
    innograph("export", "--format", "gexf", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    root = ElementTree.parse(out).getroot()
    assert root.tag == f"{GEXF}gexf"
    assert root.get("version") == "1.2"
    for element in root.iter():
        assert element.tag.startswith(GEXF), element.tag
        name = element.tag.removeprefix(GEXF)
        allowed, required = GEXF_ATTRIBUTES[name]
        present = {a for a in element.attrib if not a.startswith("{")}  # xsi:schemaLocation
        assert present <= allowed, f"<{name}> carries {present - allowed}, which the schema refuses"
        assert required <= present, f"<{name}> lacks {required - present}"
    (graph,) = root.iter(f"{GEXF}graph")
    assert graph.get("defaultedgetype") == "directed"
    assert graph.get("mode") in ("static", "dynamic")
    # The declared attributes: known types, ids unique within their class
    declared: dict[str, dict[str, str]] = {}
    for block in graph.iter(f"{GEXF}attributes"):
        assert block.get("class") in ("node", "edge")
        for attribute in block.iter(f"{GEXF}attribute"):
            assert attribute.get("type") in GEXF_TYPES
            ids = declared.setdefault(block.get("class", ""), {})
            assert attribute.get("id") not in ids
            ids[attribute.get("id", "")] = attribute.get("type", "")
    # Values refer to an attribute declared for their class and parse as its type
    node_ids = [n.get("id") for n in graph.iter(f"{GEXF}node")]
    edges = list(graph.iter(f"{GEXF}edge"))
    assert len(set(node_ids)) == len(node_ids) == NODES
    assert len({e.get("id") for e in edges}) == len(edges) == RELATIONSHIPS
    for edge in edges:
        assert edge.get("source") in set(node_ids) and edge.get("target") in set(node_ids)
        assert edge.get("type", "directed") in ("directed", "undirected", "mutual")
    for cls, items in (("node", graph.iter(f"{GEXF}node")), ("edge", edges)):
        for item in items:
            for value in item.iter(f"{GEXF}attvalue"):
                kind = declared[cls][value.get("for", "")]
                text = value.get("value", "")
                if kind in ("integer", "long"):
                    int(text)
                elif kind in ("double", "float"):
                    float(text)
                elif kind == "boolean":
                    assert text in ("true", "false")


def test_gexf_reads_back_in_networkx_with_every_property(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    out = tmp_path / "wenzhou.gexf"
    innograph("export", "--format", "gexf", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    back = nx.read_gexf(out)
    nodes, rels = graph
    assert (back.number_of_nodes(), back.number_of_edges()) == (len(nodes), len(rels))
    for node in nodes:
        expected = flat(node.to_props())
        del expected["id"]
        assert back.nodes[node.id] == {"label": node.name, **expected}
    read = sorted((u, v, d["rel_type"], d["evidence"], d["basis"]) for u, v, d in back.edges(data=True))
    assert read == sorted(
        (r.source, r.target, r.type.value, r.provenance.evidence, r.provenance.basis.value) for r in rels
    )


# -- GraphML: networkx and igraph read every attribute with its type ------------------------------


def test_graphml_reads_back_in_networkx_with_every_property_and_type(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    out = tmp_path / "wenzhou.graphml"
    innograph("export", "--format", "graphml", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    back = nx.read_graphml(out, force_multigraph=True)
    nodes, rels = graph
    for node in nodes:
        expected = flat(node.to_props())
        del expected["id"]
        assert back.nodes[node.id] == {"label": node.name, **expected}
    assert type(back.nodes["park:world-young-scientist-incubator"]["companies"]) is int
    edges = {key: (u, v, d) for u, v, key, d in back.edges(keys=True, data=True)}
    assert len(edges) == len(rels)
    for index, rel in enumerate(rels):
        u, v, data = edges[f"e{index}"]
        assert (u, v) == (rel.source, rel.target)
        assert data == {"label": rel.type.value, "rel_type": rel.type.value, **rel.to_props()}


def test_graphml_reads_in_igraph(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    out = tmp_path / "wenzhou.graphml"
    innograph("export", "--format", "graphml", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    back = igraph.Graph.Read_GraphML(str(out))
    assert (back.vcount(), back.ecount(), back.is_directed()) == (NODES, RELATIONSHIPS, True)
    park = back.vs.find(id="park:world-young-scientist-incubator")
    assert park["companies"] == 47
    assert park["name_zh"] == next(n.name_zh for n in graph[0] if n.id == park["id"])
    cmes = back.vs.find(id="society:cmes")
    served = {back.vs[e.target]["id"]: e["rel_type"] for e in back.es.select(_source=cmes.index)}
    assert served["program:wenzhou-expert-panels"] == "PARTICIPATES_IN"


# -- networkx node-link and Cytoscape JSON ------------------------------------------------------


def test_nodelink_is_read_by_networkx_node_link_graph(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    out = tmp_path / "wenzhou.json"
    innograph("export", "--format", "nodelink", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    back = nx.node_link_graph(json.loads(out.read_text(encoding="utf-8")))
    nodes, rels = graph
    assert isinstance(back, nx.MultiDiGraph)
    assert (back.number_of_nodes(), back.number_of_edges()) == (len(nodes), len(rels))
    for node in nodes:
        expected = renamed(node.to_props())
        del expected["id"]
        assert back.nodes[node.id] == expected
    assert isinstance(back.nodes["society:cmes"]["aliases"], list)
    for index, rel in enumerate(rels):
        edge = back.edges[rel.source, rel.target, f"e{index}"]
        assert edge == {"type": rel.type.value, **renamed(rel.to_props())}


def test_cytoscape_elements_rebuild_the_graph(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    out = tmp_path / "wenzhou.cyjs"
    innograph("export", "--format", "cytoscape", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    doc = json.loads(out.read_text(encoding="utf-8"))
    elements = doc["elements"]
    assert set(elements) == {"nodes", "edges"}
    every = [*elements["nodes"], *elements["edges"]]
    assert all(set(e) == {"data"} for e in every)
    ids = [e["data"]["id"] for e in every]
    assert len(ids) == len(set(ids)), "Cytoscape.js needs one id per element, nodes and edges together"
    nodes, rels = graph
    assert {e["data"]["id"]: e["data"] for e in elements["nodes"]} == {
        n.id: renamed(n.to_props()) for n in nodes
    }
    node_ids = {n.id for n in nodes}
    rebuilt = sorted(
        (d["source"], d["target"], d["interaction"], d["evidence"])
        for d in (e["data"] for e in elements["edges"])
    )
    assert all(s in node_ids and t in node_ids for s, t, _, _ in rebuilt)
    assert rebuilt == sorted((r.source, r.target, r.type.value, r.provenance.evidence) for r in rels)
    assert doc["data"]["name"] == "innograph"


# -- CSV for Excel ------------------------------------------------------------------------------


def test_kumu_workbook_has_its_two_sheets_and_every_connection_joins_two_labels(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "wenzhou-kumu.xlsx"
    innograph("export", "--format", "kumu", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["Elements", "Connections"]
    elements = [list(r) for r in book["Elements"].iter_rows(values_only=True)]
    connections = [list(r) for r in book["Connections"].iter_rows(values_only=True)]
    assert elements[0][:4] == ["Label", "Type", "Description", "Tags"]  # Kumu's own columns
    assert connections[0][:3] == ["From", "To", "Type"]
    nodes, rels = graph
    labels = [row[0] for row in elements[1:]]
    assert len(labels) == len(set(labels)) == len(nodes), "Kumu joins connections by Label: one each"
    by_id = {row[4]: row for row in elements[1:]}
    cmes = by_id["society:cmes"]
    assert (cmes[0], cmes[1], cmes[5]) == (
        "Chinese Mechanical Engineering Society",
        "Society",
        "中国机械工程学会",
    )
    assert cmes[3].split("|")[0] == "Society"
    label_of = {row[4]: row[0] for row in elements[1:]}
    assert sorted((c[0], c[1], c[2]) for c in connections[1:]) == sorted(
        (label_of[r.source], label_of[r.target], r.type.value) for r in rels
    )


def test_csv_export_carries_a_bom_unless_asked_not_to(wenzhou: Path, tmp_path: Path) -> None:
    innograph("export", "--format", "csv", "-o", tmp_path / "bom", data_dir=wenzhou, cwd=tmp_path)
    innograph(
        "export", "--format", "csv", "--no-bom", "-o", tmp_path / "plain", data_dir=wenzhou, cwd=tmp_path
    )
    with_bom = (tmp_path / "bom" / "societies.csv").read_bytes()
    plain = (tmp_path / "plain" / "societies.csv").read_bytes()
    assert with_bom.startswith(b"\xef\xbb\xbf")
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert with_bom.removeprefix(b"\xef\xbb\xbf") == plain
    assert "中国机械工程学会" in plain.decode("utf-8")


@pytest.mark.parametrize(
    "question",
    [("gaps", "--taxonomy", "wenzhou-5+5"), ("societies", "电气"), ("recommend", "泵阀", "--lang", "zh")],
)
def test_a_question_written_to_a_csv_file_opens_in_excel_and_printed_stays_plain(
    wenzhou: Path, tmp_path: Path, question: tuple[str, ...]
) -> None:
    printed = innograph(*question, "--format", "csv", data_dir=wenzhou, cwd=tmp_path).stdout
    assert not printed.startswith("\ufeff")
    innograph(*question, "--format", "csv", "-o", "answer.csv", data_dir=wenzhou, cwd=tmp_path)
    written = (tmp_path / "answer.csv").read_bytes()
    assert written.startswith(b"\xef\xbb\xbf"), "Excel reads UTF-8 only after a byte-order mark"
    assert written.decode("utf-8-sig").replace("\r\n", "\n") == printed  # stdout is read as text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in printed), "the answer holds Chinese names"
    innograph(*question, "--format", "csv", "--no-bom", "-o", "plain.csv", data_dir=wenzhou, cwd=tmp_path)
    assert (tmp_path / "plain.csv").read_text(encoding="utf-8") == printed


def test_a_question_written_where_it_cannot_be_names_the_path(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "answer.csv"
    result = innograph(
        "societies", "电气", "--format", "csv", "-o", out, data_dir=wenzhou, cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: cannot write {out}: No such file or directory"
    assert list(tmp_path.iterdir()) == []


# -- bad output paths: refused, named, and never half-written --------------------------------------


def test_an_export_into_a_directory_that_holds_files_is_refused_without_force(
    wenzhou: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    result = innograph("export", "--format", "csv", "-o", out, data_dir=wenzhou, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert str(out) in result.stderr and "--force" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    innograph("export", "--format", "csv", "--force", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    assert (out / "dataset.toml").is_file()
    assert not (out / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_an_empty_directory_takes_an_export_without_force(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    innograph("export", "--format", "neo4j-import", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    assert (out / "README.md").is_file()


@pytest.mark.parametrize(
    ("fmt", "where"),
    [
        ("gexf", "{file}/wenzhou.gexf"),  # a parent that is a file
        ("csv", "{file}"),  # a file where a directory is needed
        ("graphml", "{dir}"),  # a directory where a file is needed
    ],
)
def test_a_path_that_cannot_be_written_is_named_in_one_line(
    wenzhou: Path, tmp_path: Path, fmt: str, where: str
) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    (tmp_path / "a-dir").mkdir()
    out = where.format(file=tmp_path / "a-file", dir=tmp_path / "a-dir")
    result = innograph("export", "--format", fmt, "-o", out, data_dir=wenzhou, cwd=tmp_path, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and out in lines[0], result.stderr
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "x"
    assert list((tmp_path / "a-dir").iterdir()) == []


def _small_files() -> None:
    # Writes past 64 KiB fail (EFBIG; Python ignores SIGXFSZ): a disk filling up mid-export.
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.parametrize(("fmt", "name"), [("gexf", "wenzhou.gexf"), ("neo4j-import", "wenzhou-neo4j")])
def test_an_export_that_fails_midway_leaves_nothing_behind(
    wenzhou: Path, tmp_path: Path, fmt: str, name: str
) -> None:
    out = tmp_path / "exports" / name
    out.parent.mkdir()
    result = innograph(
        "export",
        "--format",
        fmt,
        "-o",
        out,
        data_dir=wenzhou,
        cwd=tmp_path,
        check=False,
        preexec_fn=_small_files,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: cannot write {out}: File too large"
    assert list(out.parent.iterdir()) == []


def test_a_failed_forced_export_keeps_the_previous_directory(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "wenzhou-neo4j"
    innograph("export", "--format", "neo4j-import", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = innograph(
        "export",
        "--format",
        "neo4j-import",
        "--force",
        "-o",
        out,
        data_dir=wenzhou,
        cwd=tmp_path,
        check=False,
        preexec_fn=_small_files,
    )
    assert result.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wenzhou-neo4j"]


# -- Neo4j bulk import --------------------------------------------------------------------------


def test_neo4j_import_files_have_neo4j_headers(
    wenzhou: Path, tmp_path: Path, graph: tuple[list[Node], list[Relationship]]
) -> None:
    out = tmp_path / "neo4j"
    innograph("export", "--format", "neo4j-import", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    nodes, rels = graph
    with open(out / "nodes-Park.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header[0] == "id:ID" and header[-1] == ":LABEL"
    assert "aliases:string[]" in header and "companies:long" in header
    parks = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    incubator = parks["park:world-young-scientist-incubator"]
    assert incubator["companies:long"] == "47"
    assert incubator[":LABEL"] == "Park"
    expected = next(n for n in nodes if n.id == "park:world-young-scientist-incubator").to_props()
    assert incubator["aliases:string[]"].split("|") == expected["aliases"]
    counted: dict[str, int] = {}
    for path in out.glob("relationships-*.csv"):
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            assert next(reader)[:3] == [":START_ID", ":END_ID", ":TYPE"]
            for row in reader:
                counted[row[2]] = counted.get(row[2], 0) + 1
                assert path.name == f"relationships-{row[2]}.csv"
    expected_counts: dict[str, int] = {}
    for rel in rels:
        expected_counts[rel.type.value] = expected_counts.get(rel.type.value, 0) + 1
    assert counted == expected_counts
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "neo4j-admin database import full" in readme
    for path in out.glob("*.csv"):
        assert f"={path.name}" in readme
        assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_kumu_labels_of_entities_sharing_a_name_carry_their_ids() -> None:
    from graph_service.app.interop import kumu_sheets
    from graph_service.core.ontology import Basis, Enterprise, Provenance, RelType

    p = Provenance(source="test", evidence="built by the test", basis=Basis.STATED)
    nodes = [
        Enterprise(id="enterprise:a", name="Huafeng", provenance=p),
        Enterprise(id="enterprise:b", name="Huafeng", provenance=p),
        Enterprise(id="enterprise:c", name="=HYPERLINK(1)", provenance=p),
    ]
    rels = [Relationship(source="enterprise:a", type=RelType.HOSTS, target="enterprise:b", provenance=p)]
    sheets = kumu_sheets(nodes, rels)
    assert [row[0] for row in sheets["Elements"][1:]] == [
        "Huafeng (enterprise:a)",
        "Huafeng (enterprise:b)",
        "=HYPERLINK(1)",
    ]
    assert sheets["Connections"][1][:3] == ["Huafeng (enterprise:a)", "Huafeng (enterprise:b)", "HOSTS"]
