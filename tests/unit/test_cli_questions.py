"""The planners' questions on the command line, run as a user runs them: the ``innograph`` program
in a subprocess, over the bundled Wenzhou data loaded into a temporary embedded store."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

INNOGRAPH = Path(sys.executable).with_name("innograph")
CLUSTERS = [
    "industry:wenzhou-5-5:apparel",
    "industry:wenzhou-5-5:auto-parts",
    "industry:wenzhou-5-5:digital-economy",
    "industry:wenzhou-5-5:electrical",
    "industry:wenzhou-5-5:footwear",
    "industry:wenzhou-5-5:intelligent-equipment",
    "industry:wenzhou-5-5:life-health",
    "industry:wenzhou-5-5:new-materials",
    "industry:wenzhou-5-5:nev-icv",
    "industry:wenzhou-5-5:pumps-valves",
]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNOGRAPH_", "NEO4J_"))}
    return subprocess.run(
        [str(INNOGRAPH), *map(str, args)], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the bundled Wenzhou dataset."""
    directory = tmp_path_factory.mktemp("innograph-data")
    loaded = run("load", "--data-dir", directory)
    assert loaded.returncode == 0, loaded.stderr
    assert (directory / "graph.json").exists()
    return directory


def ok(*args: str | Path) -> str:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def table_rows(text: str, after_header: str) -> list[list[str]]:
    """The rows of a printed table (columns split on runs of two or more spaces)."""
    import re

    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after_header))
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    return [re.split(r" {2,}", line.strip()) for line in lines[start + 2 :] if line.strip()]


def test_societies_table(data_dir: Path) -> None:
    # sub-industries count unless told otherwise: Wenzhou's electrical industry has its own panels
    out = ok("societies", "电气", "--data-dir", data_dir)
    assert (
        out.splitlines()[0] == "Societies serving Electrical equipment (industry:wenzhou-5-5:electrical): 3"
    )
    out = ok("societies", "电气", "--no-sub", "--data-dir", data_dir)
    assert (
        out.splitlines()[0] == "Societies serving Electrical equipment (industry:wenzhou-5-5:electrical): 1"
    )
    # CMES serves it (reference, 3 × 0.9) and takes part in the 2018 demonstration project that
    # serves it (reference twice, 2 × 0.9 × 0.9): 2.7 + 1.62
    assert table_rows(out, "society") == [
        [
            "Chinese Mechanical Engineering Society",
            "中国机械工程学会",
            "4.32",
            "direct, program",
            "society:cmes",
        ]
    ]


def test_societies_with_evidence_and_sub_industries(data_dir: Path) -> None:
    out = ok("societies", "industry:wenzhou-5-5:electrical", "--evidence", "--data-dir", data_dir)
    assert "[direct, reference] Chinese Mechanical Engineering Society — serves — Electrical equipment" in out
    wider = json.loads(ok("societies", "电气", "--sub", "--format", "json", "--data-dir", data_dir))
    assert "industry:local:wenzhou-electrical" in [i["id"] for i in wider["industries"]]
    assert wider["total"] > 1
    assert wider["results"][0]["society"]["id"] == "society:cmes"


def test_societies_json_and_csv_agree_with_the_table(data_dir: Path) -> None:
    result = json.loads(ok("societies", "电气", "--no-sub", "--format", "json", "--data-dir", data_dir))
    assert result["industry"]["id"] == "industry:wenzhou-5-5:electrical"
    assert [(r["society"]["id"], r["score"], r["channels"]) for r in result["results"]] == [
        ("society:cmes", 4.32, ["direct", "program"])
    ]
    assert all(p["steps"] and p["sentence"] for p in result["results"][0]["paths"])
    rows = list(
        csv.reader(
            io.StringIO(ok("societies", "电气", "--no-sub", "--format", "csv", "--data-dir", data_dir))
        )
    )
    assert rows == [
        ["society", "name_zh", "score", "channels", "id"],
        [
            "Chinese Mechanical Engineering Society",
            "中国机械工程学会",
            "4.32",
            "direct, program",
            "society:cmes",
        ],
    ]


def test_gaps_lists_all_ten_clusters(data_dir: Path) -> None:
    out = ok("gaps", "--taxonomy", "wenzhou-5+5", "--data-dir", data_dir)
    first = out.splitlines()[0]
    assert first.startswith("10 industries: ")
    rows = table_rows(out, "industry")
    assert sorted(r[-1] for r in rows) == sorted(CLUSTERS)
    statuses = [r[1] for r in rows]
    severities = [float(r[2]) for r in rows]
    assert severities == sorted(severities, reverse=True)  # the most severe gaps first
    assert statuses[0] == "uncovered"
    counts = {s: statuses.count(s) for s in ("uncovered", "thin", "covered")}
    assert (
        first
        == f"10 industries: {counts['uncovered']} uncovered, {counts['thin']} thin, {counts['covered']} covered"
    )
    assert ok("gaps", "--data-dir", data_dir) == out  # the 5+5 is the default scope


def test_gaps_json_and_csv(data_dir: Path) -> None:
    table = [
        r[-1] for r in table_rows(ok("gaps", "--taxonomy", "wenzhou-5+5", "--data-dir", data_dir), "industry")
    ]
    result = json.loads(ok("gaps", "--taxonomy", "wenzhou-5+5", "--format", "json", "--data-dir", data_dir))
    assert [r["industry"]["id"] for r in result["rows"]] == table
    assert result["count"] == 10
    text = ok("gaps", "--taxonomy", "wenzhou-5+5", "--format", "csv", "--data-dir", data_dir)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["industry_id"] for r in rows] == table
    assert {r["status"] for r in rows} <= {"uncovered", "thin", "covered"}
    electrical = next(r for r in rows if r["industry_id"] == "industry:wenzhou-5-5:electrical")
    assert int(electrical["societies"]) >= 1
    assert "Chinese Mechanical Engineering Society" in electrical["society_names"]


def test_recommend(data_dir: Path) -> None:
    out = ok("recommend", "智能装备", "--data-dir", data_dir)
    rows = table_rows(out, "rank")
    assert len(rows) >= 3
    assert all(len(r) == 5 and r[4].startswith("society:") for r in rows)
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    result = json.loads(ok("recommend", "智能装备", "--format", "json", "--data-dir", data_dir))
    assert result["industry"]["id"] == "industry:wenzhou-5-5:intelligent-equipment"
    assert [r["society"]["id"] for r in result["results"]] == [r[4] for r in rows]
    zh = ok("recommend", "智能装备", "--lang", "zh", "--data-dir", data_dir)
    assert zh.splitlines()[0].startswith("建议对接智能装备的学会")
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r[3]) for r in table_rows(zh, "排名"))
    why = ok("recommend", "泵阀", "--explain", "中国电子学会", "--data-dir", data_dir)
    assert "Chinese Institute of Electronics" in why or "中国电子学会" in why
    assert "not suggested" in why
    assert all(r["reasons"] for r in result["results"])
    serving = {s["id"] for s in result["already_serving"]}
    assert not serving & {r["society"]["id"] for r in result["results"]}


def test_path(data_dir: Path) -> None:
    out = ok("path", "China SAE", "电气", "--data-dir", data_dir)
    rows = table_rows(out, "hops")
    assert len(rows) == 3  # k defaults to 3
    for hops, _basis, chain in rows:
        assert chain.startswith("China Society of Automotive Engineers — ")
        assert chain.endswith(" — Electrical equipment")
        assert chain.count(" — ") == 2 * int(hops)
    one = json.loads(ok("path", "China SAE", "电气", "-k", "1", "--format", "json", "--data-dir", data_dir))
    assert one["count"] == 1
    assert one["paths"][0]["sentence"] == rows[0][2]


def test_search(data_dir: Path) -> None:
    rows = table_rows(ok("search", "CMES", "--data-dir", data_dir), "name")
    assert rows[0] == ["Chinese Mechanical Engineering Society", "Society", "95", "CMES", "society:cmes"]
    pinyin = table_rows(ok("search", "jixie", "--kind", "society", "--data-dir", data_dir), "name")
    assert "society:cmes" in [r[-1] for r in pinyin]
    assert {r[1] for r in pinyin} == {"Society"}
    typo = json.loads(ok("search", "Mechanicl Engineering", "--format", "json", "--data-dir", data_dir))
    assert typo["results"][0]["node"]["id"] == "society:cmes"


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (("societies", "造船业XYZ"), "error: no industry matches '造船业XYZ'", 2),
        (("recommend", "造船业XYZ"), "error: no industry matches '造船业XYZ'", 2),
        (("path", "society:nobody", "电气"), "error: no entity matches 'society:nobody'", 2),
        (("gaps", "--industry", "造船业XYZ"), "error: no industry matches '造船业XYZ'", 2),
        (("search", "   "), "error: the search text is empty", 1),
    ],
)
def test_unknown_names_fail_in_one_line(
    data_dir: Path, args: tuple[str, ...], message: str, code: int
) -> None:
    result = run(*args, "--data-dir", data_dir)
    assert result.returncode == code
    assert result.stdout == ""
    assert result.stderr.strip() == message
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("typed", ["intelligent", "智能"])
def test_a_name_several_industries_answer_to_lists_them_and_exits_2(data_dir: Path, typed: str) -> None:
    result = run("societies", typed, "--data-dir", data_dir)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {typed!r} could be several industry entries; give one of their ids:"
    assert (
        lines[1]
        == "  1. industry:wenzhou-5-5:intelligent-equipment (Intelligent equipment · 智能装备 · Industry)"
    )
    assert any(line.startswith("  2. industry:") for line in lines[2:3])
    assert any("industry:wenzhou-5-5:nev-icv (" in line for line in lines[1:])
    assert "Traceback" not in result.stderr


def test_an_unknown_taxonomy_exits_2_naming_those_there_are(data_dir: Path) -> None:
    result = run("gaps", "--taxonomy", "wenzhou-55", "--data-dir", data_dir)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no industry has the taxonomy 'wenzhou-55'; known: ")
    assert "did you mean wenzhou-5+5, " in result.stderr
    assert "Traceback" not in result.stderr


def test_names_as_planners_type_them(data_dir: Path) -> None:
    for typed, key in [("电器", "electrical"), ("auto parts", "auto-parts"), ("汽车配件", "auto-parts")]:
        answer = json.loads(ok("societies", typed, "--format", "json", "--data-dir", data_dir))
        assert answer["industry"]["id"] == f"industry:wenzhou-5-5:{key}", typed
    found = json.loads(ok("search", "jixie", "--kind", "society", "--format", "json", "--data-dir", data_dir))
    order = [hit["node"]["id"] for hit in found["results"]]
    assert order.index("society:cmes") < order.index("society:cast-e-12")  # 机械, before 设计协会


def test_a_bad_option_is_a_usage_error(data_dir: Path) -> None:
    result = run("societies", "电气", "--format", "xml", "--data-dir", data_dir)
    assert result.returncode == 2
    assert "'xml' is not one of 'table', 'json', 'csv'" in result.stderr
    assert "Traceback" not in result.stderr


def test_view_writes_one_offline_html_file(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmes.html"
    done = run("view", "ego", "society:cmes", "--depth", "2", "-o", out, "--data-dir", data_dir)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "Chinese Mechanical Engineering Society" in html
    assert '<script src="http' not in html and '<link href="http' not in html
    missing = run("view", "path", "--data-dir", data_dir, "-o", tmp_path / "x.html")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "needs an entity" in missing.stderr
