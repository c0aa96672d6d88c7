"""``innograph export --format neo4j-import`` imported by Neo4j's own bulk importer, with the very
command its README gives, into a scratch server home; the server then holds the same graph."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import neo4j
import pytest
from neo4j_server import Neo4jServer, fetch, java_available

from graph_service.backends.embedded import EmbeddedStore
from loaders.load import WENZHOU_DATASET, load_dataset

pytestmark = pytest.mark.neo4j

INNOGRAPH = Path(sys.executable).with_name("innograph")
ADMIN_TOOL = "org.neo4j.cli.AdminTool"


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not found or not java_available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but Java 17 is missing, so neo4j-admin cannot run")
        pytest.skip("the Neo4j import test needs Java 17 (the suite fetches Neo4j 5.26 from Maven Central)")
    return found


def _readme_command(readme: Path) -> list[str]:
    """The command of the README's code block, as the shell would split it."""
    block = re.search(r"```\n(neo4j-admin .*?)\n```", readme.read_text(encoding="utf-8"), re.S)
    assert block, "the README gives the command in a code block"
    return shlex.split(block.group(1).replace("\\\n", " "))


def test_neo4j_admin_imports_the_export_with_the_readme_command(tmp_path: Path) -> None:
    java = _java()
    lib = fetch()
    store = EmbeddedStore(tmp_path / "data" / "graph.json")
    load_dataset(WENZHOU_DATASET, store)
    store.persist()
    counts = store.counts()
    incubator = store.get_node("park:world-young-scientist-incubator")
    store.close()
    assert incubator is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNOGRAPH_", "NEO4J_"))}
    out = tmp_path / "wz-neo4j"
    subprocess.run(
        [str(INNOGRAPH), "export", "--format", "neo4j-import", "-o", str(out)],
        env=env | {"INNOGRAPH_DATA_DIR": str(tmp_path / "data")},
        check=True,
        capture_output=True,
        timeout=120,
    )
    command = _readme_command(out / "README.md")
    assert command[:4] == ["neo4j-admin", "database", "import", "full"]
    home = tmp_path / "neo4j-home"
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "neo4j.conf").write_text("", encoding="utf-8")
    result = subprocess.run(
        [java, "-Xmx512m", "-cp", f"{lib}/*", ADMIN_TOOL, *command[1:]],
        cwd=out,
        env=env | {"NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{counts.total_nodes} nodes" in result.stdout
    assert f"{counts.total_relationships} relationships" in result.stdout

    with Neo4jServer(home=home) as server:
        driver = neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password))
        try:
            labels, _, _ = driver.execute_query(
                "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n"
            )
            types, _, _ = driver.execute_query("MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")
            park, _, _ = driver.execute_query(
                "MATCH (p:Park {id: $id}) RETURN p.companies AS companies, p.aliases AS aliases",
                id="park:world-young-scientist-incubator",
            )
            serves, _, _ = driver.execute_query(
                "MATCH (:Program)-[r:SERVES]->(i:Industry) RETURN r.basis AS basis, r.evidence AS evidence, i.id AS id"
            )
        finally:
            driver.close()
    assert {r["label"]: r["n"] for r in labels} == counts.nodes
    assert {r["type"]: r["n"] for r in types} == counts.relationships
    assert park[0]["companies"] == incubator.to_props()["companies"]
    assert isinstance(park[0]["companies"], int)
    assert park[0]["aliases"] == incubator.to_props()["aliases"]
    assert serves and all(r["evidence"] and r["basis"] in ("stated", "inferred", "reference") for r in serves)
