"""The real ``innograph`` console script, run as a planner would run it, in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import pytest
from openpyxl import load_workbook
from shared import wenzhou_rows

from graph_service.app.cli import cli
from loaders.records import RELATIONSHIP_COLUMNS

DATA = Path(__file__).resolve().parent.parent / "data"
INNOGRAPH = Path(sys.executable).with_name("innograph")

WENZHOU_STATS = wenzhou_rows()
NODES = sum(WENZHOU_STATS["nodes"].values())
RELATIONSHIPS = sum(WENZHOU_STATS["relationships"].values())


def innograph(
    *args: str | Path, data_dir: Path, cwd: Path, check: bool = True
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
    )
    if check:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    return result


def stats(data_dir: Path, cwd: Path) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = json.loads(
        innograph("stats", "--json", data_dir=data_dir, cwd=cwd).stdout
    )
    return result


@pytest.fixture(scope="module")
def wenzhou(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the bundled Wenzhou data loaded by ``innograph load``."""
    data_dir = tmp_path_factory.mktemp("wenzhou-data")
    result = innograph("load", data_dir=data_dir, cwd=data_dir)
    assert result.stdout.startswith("Loaded 'wenzhou' into the embedded store")
    return data_dir


def test_load_then_stats_describes_the_bundled_data(wenzhou: Path, tmp_path: Path) -> None:
    assert (wenzhou / "graph.json").is_file()
    assert stats(wenzhou, tmp_path) == WENZHOU_STATS
    text = innograph("stats", data_dir=wenzhou, cwd=tmp_path).stdout
    assert text.startswith(f"{NODES} nodes, {RELATIONSHIPS} relationships (embedded store)")
    assert "  Society                 209" in text


def test_loading_again_reports_everything_unchanged(wenzhou: Path, tmp_path: Path) -> None:
    report = json.loads(innograph("load", "--json", data_dir=wenzhou, cwd=tmp_path).stdout)
    assert report["dataset"] == "wenzhou"
    assert {k: v["unchanged"] for k, v in report["nodes"].items()} == WENZHOU_STATS["nodes"]
    assert all(v["created"] == v["updated"] == 0 for v in report["nodes"].values())
    assert all(v["created"] == v["updated"] == 0 for v in report["relationships"].values())
    assert report["rejected"] == []
    assert stats(wenzhou, tmp_path) == WENZHOU_STATS


def test_an_empty_store_says_how_to_fill_it(tmp_path: Path) -> None:
    text = innograph("stats", data_dir=tmp_path / "empty", cwd=tmp_path).stdout
    assert text.startswith("0 nodes, 0 relationships")
    assert "run `innograph load`" in text


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_help_of_every_command_shows_an_example(command: str, tmp_path: Path) -> None:
    result = innograph(command, "--help", data_dir=tmp_path, cwd=tmp_path)
    assert result.stdout.startswith(f"Usage: innograph {command} ")
    assert "Example" in result.stdout
    assert f"innograph {command}" in result.stdout.split("Example", 1)[1]


def test_top_level_help_lists_the_commands(tmp_path: Path) -> None:
    result = innograph("--help", data_dir=tmp_path, cwd=tmp_path)
    for command in ("load", "stats", "export", "template"):
        assert f"  {command} " in result.stdout


def test_a_bad_dataset_exits_1_with_one_line_per_problem(tmp_path: Path) -> None:
    innograph("load", DATA / "mini", data_dir=tmp_path, cwd=tmp_path)
    before = (tmp_path / "graph.json").read_bytes()
    result = innograph(
        "load", DATA / "bad" / "rejected-node-cascade", data_dir=tmp_path, cwd=tmp_path, check=False
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: 3 problem(s) in the dataset; nothing was written:",
        "  societies.csv, row 2, column 'level': 'global' is not allowed; input should be "
        "'national', 'provincial' or 'city'",
        "  relationships.csv, row 2, column 'from': 'society:csm' was rejected at societies.csv, row 2",
        "  relationships.csv, row 3, column 'from': '中国金属学会' names the row rejected at societies.csv, row 2",
    ]
    assert (tmp_path / "graph.json").read_bytes() == before


def test_partial_load_from_the_command_line(tmp_path: Path) -> None:
    dataset = tmp_path / "city"
    dataset.mkdir()
    for name in ("dataset.toml", "societies.csv"):
        (dataset / name).write_bytes((DATA / "bad" / "rejected-node-cascade" / name).read_bytes())
    (dataset / "relationships.csv").write_text(
        "from,type,to,source,basis\nsociety:csm,SERVES,society:cses,corpus,stated\n", encoding="utf-8"
    )
    result = innograph("load", dataset, "--partial", data_dir=tmp_path / "data", cwd=tmp_path)
    assert "2 row problem(s) rejected" in result.stdout
    assert "Rejected rows written to city-rejects.csv" in result.stdout
    with open(tmp_path / "city-rejects.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[:3] for r in rows] == [
        ["file", "row", "column"],
        ["societies.csv", "2", "level"],
        ["relationships.csv", "2", "from"],
    ]
    assert stats(tmp_path / "data", tmp_path) == {"nodes": {"Society": 1}, "relationships": {}}


def test_a_corrupt_snapshot_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "graph.json").write_bytes(b"\x80\x04not a snapshot")
    result = innograph("stats", data_dir=tmp_path, cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: the snapshot {tmp_path / 'graph.json'} is not valid JSON")
    assert "Traceback" not in result.stderr


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = innograph("load", tmp_path / "nowhere", data_dir=tmp_path, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


# -- the workbook template ----------------------------------------------------------------

SHEETS = [
    "README",
    "societies",
    "talents",
    "enterprises",
    "parks",
    "industries",
    "agreements",
    "regions",
    "organizations",
    "programs",
    "relationships",
    "sources",
]


def test_template_has_a_sheet_per_kind_and_a_readme(tmp_path: Path) -> None:
    result = innograph("template", "-o", "city.xlsx", data_dir=tmp_path, cwd=tmp_path)
    assert "fill it in, then run `innograph load city.xlsx`" in result.stdout
    book = load_workbook(tmp_path / "city.xlsx")
    assert book.sheetnames == SHEETS
    header = [c.value for c in book["societies"][1]]
    assert header[:3] == ["id", "name", "name_zh"]
    assert {"source", "evidence", "basis", "level"} <= set(header)
    assert [c.value for c in book["relationships"][1]] == list(RELATIONSHIP_COLUMNS)
    assert [c.value for c in book["sources"][1]] == ["key", "title", "publisher", "date", "location"]
    explained = {(r[0], r[1]) for r in book["README"].iter_rows(min_row=2, values_only=True)}
    for sheet in SHEETS[1:]:
        for cell in book[sheet][1]:
            assert (sheet, cell.value) in explained, f"README does not explain {sheet}.{cell.value}"


def fill(sheet: object, record: dict[str, object]) -> None:
    header = [c.value for c in sheet[1]]
    sheet.append([record.get(h) for h in header])


def test_a_filled_template_loads(tmp_path: Path) -> None:
    innograph("template", "-o", "city.xlsx", data_dir=tmp_path, cwd=tmp_path)
    book = load_workbook(tmp_path / "city.xlsx")
    fill(book["sources"], {"key": "survey-2024", "title": "Ouhai innovation survey", "date": "2024"})
    fill(
        book["societies"],
        {
            "name": "Chinese Society for Metals",
            "name_zh": "中国金属学会",
            "aliases": "CSM",
            "level": "national",
            "source": "survey-2024",
            "evidence": "met the survey team",
            "basis": "stated",
        },
    )
    fill(
        book["industries"],
        {
            "name": "Metal products",
            "name_zh": "金属制品业",
            "taxonomy": "gbt4754",
            "code": "C33",
            "level": "division",
            "source": "survey-2024",
            "basis": "reference",
        },
    )
    fill(
        book["relationships"],
        {
            "from": "CSM",
            "type": "SERVES",
            "to": "金属制品业",
            "since": "2024-03",
            "source": "survey-2024",
            "evidence": "advises die-casting firms",
            "basis": "stated",
        },
    )
    book.save(tmp_path / "city.xlsx")
    result = innograph("load", "city.xlsx", data_dir=tmp_path / "data", cwd=tmp_path)
    assert result.stdout.startswith("Loaded 'city' into the embedded store")
    assert stats(tmp_path / "data", tmp_path) == {
        "nodes": {"Industry": 1, "Society": 1},
        "relationships": {"SERVES": 1},
    }
    exported = tmp_path / "city.json"
    innograph("export", "--format", "json", "-o", exported, data_dir=tmp_path / "data", cwd=tmp_path)
    doc = json.loads(exported.read_text(encoding="utf-8"))
    assert [n["id"] for n in doc["nodes"]] == ["industry:gbt4754:c33", "society:chinese-society-for-metals"]
    assert doc["relationships"] == [
        {
            "from": "society:chinese-society-for-metals",
            "type": "SERVES",
            "to": "industry:gbt4754:c33",
            "source": "survey-2024",
            "evidence": "advises die-casting firms",
            "basis": "stated",
            "since": "2024-03",
        }
    ]


# -- exports ------------------------------------------------------------------------------


def test_graphml_export_opens_in_networkx(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "wenzhou.graphml"
    innograph("export", "--format", "graphml", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    graph = nx.read_graphml(out)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (NODES, RELATIONSHIPS)
    assert graph.nodes["society:cmes"]["label"] == "Chinese Mechanical Engineering Society"
    assert graph.nodes["society:cmes"]["name_zh"] == "中国机械工程学会"
    assert graph.nodes["society:cmes"]["kind"] == "Society"
    edge = graph.get_edge_data("society:cmes", "program:wenzhou-expert-panels")
    assert (edge["rel_type"], edge["label"], edge["basis"]) == (
        "PARTICIPATES_IN",
        "PARTICIPATES_IN",
        "stated",
    )
    # Gephi keeps one edge per id: every relationship needs its own
    edge_ids = [
        e.get("id") for e in ElementTree.parse(out).iter("{http://graphml.graphdrawing.org/xmlns}edge")
    ]
    assert len(edge_ids) == RELATIONSHIPS
    assert len(set(edge_ids)) == RELATIONSHIPS


def test_gexf_export_opens_in_networkx(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "wenzhou.gexf"
    innograph("export", "--format", "gexf", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    graph = nx.read_gexf(out)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (NODES, RELATIONSHIPS)
    assert graph.nodes["region:330300"]["label"] == "Wenzhou"
    assert graph.nodes["region:330300"]["name_zh"] == "温州市"
    edge = graph.get_edge_data("society:cmes", "program:wenzhou-expert-panels")
    assert (edge["rel_type"], edge["label"]) == ("PARTICIPATES_IN", "PARTICIPATES_IN")
    # GEXF's own edge 'type' means directed/undirected/mutual; anything else breaks Gephi's import
    edges = list(ElementTree.parse(out).iter("{http://www.gexf.net/1.2draft}edge"))
    assert len(edges) == RELATIONSHIPS
    assert {e.get("type", "directed") for e in edges} == {"directed"}
    assert len({e.get("id") for e in edges}) == RELATIONSHIPS


def test_json_export_holds_every_node_and_relationship(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "wenzhou.json"
    innograph("export", "--format", "json", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert (len(doc["nodes"]), len(doc["relationships"])) == (NODES, RELATIONSHIPS)
    plan = next(n for n in doc["nodes"] if n["id"] == "program:wenzhou-three-year-action-plan-2021-2023")
    assert json.loads(plan["targets"]) == {"academician_workstation": 50, "doctoral_station": 100}


def test_csv_export_loads_back_to_the_same_graph(wenzhou: Path, tmp_path: Path) -> None:
    out = tmp_path / "wenzhou-csv"
    innograph("export", "--format", "csv", "-o", out, data_dir=wenzhou, cwd=tmp_path)
    assert (out / "dataset.toml").is_file()
    assert (out / "relationships.csv").is_file()
    fresh = tmp_path / "fresh"
    innograph("load", out, data_dir=fresh, cwd=tmp_path)
    assert stats(fresh, tmp_path) == WENZHOU_STATS
    assert (fresh / "graph.json").read_bytes() == (wenzhou / "graph.json").read_bytes()


FORMULAS = {
    "society:eq": '=HYPERLINK("http://evil.example","click")',
    "society:plus": "+86 577 8888 0000",
    "society:minus": "-1 Society",
    "society:at": "@SUM(A1:A9)",
}


def test_csv_export_neutralises_formulas_and_still_loads_back(tmp_path: Path) -> None:
    dataset = tmp_path / "formulas"
    dataset.mkdir()
    (dataset / "dataset.toml").write_text(
        'name = "formulas"\n[sources.notes]\ntitle = "n"\n', encoding="utf-8"
    )
    with open(dataset / "societies.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "description", "source", "evidence", "basis"])
        for node_id, name in FORMULAS.items():
            writer.writerow([node_id, name, name, "notes", "=1+1", "stated"])
    data = tmp_path / "data"
    innograph("load", dataset, data_dir=data, cwd=tmp_path)
    out = tmp_path / "out"
    innograph("export", "--format", "csv", "-o", out, data_dir=data, cwd=tmp_path)
    with open(out / "societies.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["id"]: r["name"] for r in rows} == {k: "'" + v for k, v in FORMULAS.items()}
    assert {r["description"] for r in rows} == {"'" + v for v in FORMULAS.values()}
    assert {r["evidence"] for r in rows} == {"'=1+1"}
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    again = tmp_path / "again"
    innograph("load", out, data_dir=again, cwd=tmp_path)
    assert (again / "graph.json").read_bytes() == (data / "graph.json").read_bytes()
