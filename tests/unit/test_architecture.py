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
        ("neo4j", {"graph_service/backends/neo4j/"}),
        ("pyvis", {"visualizations/"}),
        (
            "networkx",
            {
                "graph_service/backends/embedded/",
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


def _modules_imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, by its full dotted name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


ROOMS = (
    "graph_service.core",
    "graph_service.backends",
    "graph_service.app",
    "loaders",
    "queries",
    "visualizations",
)
"""The layers, each a package; ``docs/architecture.md`` says what each holds."""
MAY_IMPORT: dict[str, set[str]] = {
    "graph_service.core": set(),
    "graph_service.backends": {"graph_service.core"},
    "loaders": {"graph_service.core"},
    "queries": {"graph_service.core"},
    "visualizations": {"graph_service.core", "queries"},
    "graph_service.app": {
        "graph_service.core",
        "graph_service.backends",
        "loaders",
        "queries",
        "visualizations",
    },
}
"""The rooms each room may import besides itself: only those below it."""


def _room(module: str) -> str | None:
    for room in ROOMS:
        if module == room or module.startswith(room + "."):
            return room
    return None


def upward_arrows(rel: str, imported: set[str]) -> set[str]:
    """The modules that the file at ``rel`` imports and its layer may not."""
    own = _room(rel.removesuffix(".py").replace("/", ".").removesuffix(".__init__"))
    if own is None:
        return {f"{rel} is in no layer"}
    arrows = set()
    for module in imported:
        room = _room(module)
        if room is None and module.split(".")[0] in PACKAGES:
            arrows.add(module)  # a project module outside every room (graph_service.something)
        elif room is not None and room != own and room not in MAY_IMPORT[own]:
            arrows.add(module)
    return arrows


def test_every_import_runs_down_the_layers() -> None:
    """core imports nothing of the project; backends only core; loaders and queries only core;
    views core and queries; the app anything below it."""
    offenders = {}
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel == "graph_service/__init__.py":
            continue
        arrows = upward_arrows(rel, _modules_imported(path))
        if arrows:
            offenders[rel] = sorted(arrows)
    assert not offenders, f"imports that run up (or sideways) between layers: {offenders}"


@pytest.mark.parametrize(
    ("rel", "imported"),
    [
        ("graph_service/core/store.py", {"graph_service.backends.embedded"}),
        ("graph_service/backends/embedded/walks.py", {"queries.common"}),
        ("queries/common.py", {"visualizations.i18n"}),
        ("queries/gaps.py", {"graph_service.app.exports"}),
        ("loaders/load.py", {"graph_service.backends.embedded"}),
        ("visualizations/views.py", {"graph_service.app.web"}),
        ("queries/serving.py", {"graph_service.embedded"}),
    ],
)
def test_an_upward_arrow_is_caught(rel: str, imported: set[str]) -> None:
    assert upward_arrows(rel, imported) == imported


def test_downward_arrows_pass() -> None:
    assert not upward_arrows("graph_service/app/cli.py", {"graph_service.backends.bootstrap", "queries.gaps"})
    assert not upward_arrows("visualizations/views.py", {"queries.explore", "graph_service.core.ontology"})
    assert not upward_arrows("graph_service/backends/neo4j/store.py", {"graph_service.core.store", "neo4j"})


def _backend_checks(tree: ast.AST) -> list[int]:
    """Lines that ask which backend they hold: ``isinstance(x, EmbeddedStore)`` or ``x.name == "neo4j"``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            if any(
                isinstance(n, ast.Name) and n.id in {"EmbeddedStore", "Neo4jStore"}
                for arg in node.args[1:]
                for n in ast.walk(arg)
            ):
                found.append(node.lineno)
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names = any(isinstance(s, ast.Attribute) and s.attr == "name" for s in sides)
            backend = any(isinstance(s, ast.Constant) and s.value in {"neo4j", "embedded"} for s in sides)
            if names and backend:
                found.append(node.lineno)
    return found


def test_no_code_asks_which_backend_it_holds() -> None:
    """Every backend difference is behind the GraphStore protocol (a method or a capability)."""
    offenders = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for path in _modules()
        if not path.relative_to(ROOT).as_posix().startswith("graph_service/backends/")
        for line in _backend_checks(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offenders, f"backend checks outside graph_service/backends/: {offenders}"


def test_a_backend_check_is_caught() -> None:
    code = 'if isinstance(store, EmbeddedStore) or store.name == "neo4j": pass'
    assert _backend_checks(ast.parse(code)) == [1, 1]


def test_loaders_queries_and_views_do_not_talk_to_a_backend() -> None:
    """Loaders, queries and views go through GraphStore; they never import a backend or the app."""
    for pkg in ("loaders", "queries", "visualizations"):
        for path in (ROOT / pkg).rglob("*.py"):
            above = {
                m
                for m in _modules_imported(path)
                if m.startswith(("graph_service.backends", "graph_service.app"))
            }
            assert not above, f"{path} imports {above}"


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
