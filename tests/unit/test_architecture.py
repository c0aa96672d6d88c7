"""Static guards that keep the layout telling the architecture, and query text out of reach of input."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph_service", "loaders", "queries", "visualizations")


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("technology", "allowed"),
    [
        ("neo4j", {"graph_service/backends/neo4j/store.py", "graph_service/backends/neo4j/cypher.py"}),
        ("pyvis", {"visualizations/"}),
        (
            "networkx",
            {
                "graph_service/backends/embedded.py",
                "graph_service/app/exports.py",
                "queries/analytics.py",
                "visualizations/layout.py",
            },
        ),
    ],
)
def test_only_adapters_import_their_technology(technology: str, allowed: set[str]) -> None:
    offenders = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if technology in _imports(path) and not any(
            rel == a or (a.endswith("/") and rel.startswith(a)) for a in allowed
        ):
            offenders.append(rel)
    assert not offenders, f"{technology} imported outside its adapter: {offenders}"


def test_models_and_errors_import_nothing_from_the_project() -> None:
    for name in ("graph_service/core/errors.py",):
        project = _imports(ROOT / name) & set(PACKAGES)
        assert not project, f"{name} imports {project}"
    assert _imports(ROOT / "graph_service/core/ontology.py") & set(PACKAGES) <= {"graph_service"}


def _modules_imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_loaders_queries_and_views_do_not_talk_to_a_backend() -> None:
    """Loaders, queries and views go through GraphStore; they never import a backend."""
    for pkg in ("loaders", "queries", "visualizations"):
        for path in (ROOT / pkg).rglob("*.py"):
            backends = _modules_imported(path) & {
                "graph_service.backends.embedded",
                "graph_service.backends.neo4j.store",
            }
            assert not backends, f"{path} imports {backends}"


def test_views_never_query_the_store() -> None:
    for path in (ROOT / "visualizations").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "GraphStore" not in text, f"{path} reaches for the store; views draw query results"


def _query_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in {"run", "execute_query", "Query"}:
                calls.append(node)
    return calls


def test_query_text_is_never_built_from_strings_at_run_time() -> None:
    """No Cypher text made with f-strings, %, .format or + where it is run: labels come from enums."""
    for name in ("graph_service/backends/neo4j/store.py", "graph_service/backends/neo4j/cypher.py"):
        path = ROOT / name
        if not path.exists():
            pytest.fail(f"{name} is missing")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _query_calls(tree):
            if not call.args:
                continue
            first = call.args[0]
            built = (
                isinstance(first, ast.JoinedStr)
                or (isinstance(first, ast.BinOp) and isinstance(first.op, (ast.Add, ast.Mod)))
                or (
                    isinstance(first, ast.Call)
                    and isinstance(first.func, ast.Attribute)
                    and first.func.attr == "format"
                )
            )
            assert not built, f"{name}:{call.lineno} builds query text at the call site"
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
                )
                assert not any(
                    k in text.upper() for k in ("MATCH ", "MERGE ", "CREATE ", "DELETE ", "RETURN ")
                ), f"{name}:{node.lineno} formats Cypher with an f-string"


def test_only_the_neo4j_backend_holds_cypher() -> None:
    keywords = ("MATCH (", "MERGE (", "DETACH DELETE")
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("graph_service/backends/neo4j/store.py", "graph_service/backends/neo4j/cypher.py"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not any(k in text for k in keywords), f"{rel} holds Cypher"


def test_one_composition_root() -> None:
    """Only bootstrap.make_store reads settings.backend to choose a store."""
    readers = [
        p.relative_to(ROOT).as_posix()
        for p in _modules()
        if ".backend ==" in p.read_text(encoding="utf-8")
        or "settings.backend" in p.read_text(encoding="utf-8")
    ]
    assert set(readers) <= {"graph_service/backends/bootstrap.py", "graph_service/app/cli.py"}, readers
