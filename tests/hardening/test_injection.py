"""Injection stays inert: Cypher- and HTML-looking text as values, would-be labels, types and keys, on every route.

Values round-trip exactly; identifiers (kinds, relationship types, property keys) are refused;
no response echoes query text, a Neo4j status code or a traceback; the graph is unchanged.
An auth matrix walks the app's routes so a new write route cannot ship without the key.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from corpus import MINI, ROOT, graph_state, write_dataset
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.app.exports import export_graph
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.errors import DataError
from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore
from loaders.load import load_dataset

HOSTILE = ROOT / "tests" / "data" / "bad" / "hostile-names"
CYPHER = "' WITH DISTINCT true AS x MATCH (s) DETACH DELETE s //"
PAYLOADS = {
    "cypher": CYPHER,
    "quote-close": '") MATCH (n) DETACH DELETE n //',
    "backticks": "`Society` name``with`backticks",
    "comment": "x/**/MATCH/**/(n)/**/DETACH/**/DELETE/**/n",
    "html": "<img src=x onerror=alert(1)>",
    "long": "a" * 10_000,
}
LEAKS = (
    "Neo.ClientError",
    "Neo.TransientError",
    "Neo.DatabaseError",
    "Traceback (most recent",
    "UNWIND ",
    " RETURN ",
)
KEY = "injection-key"
VALID = {
    "industry": "industry:wz:electrical",
    "society": "society:cmes",
    "plan": "program:plan",
    "entity": "society:cmes",
}


def loaded(store: GraphStore) -> GraphStore:
    load_dataset(MINI, store)
    load_dataset(HOSTILE, store)
    return store


@pytest.fixture
def api(store: GraphStore, tmp_path: Path) -> Iterator[tuple[TestClient, GraphStore]]:
    app = create_app(Settings(data_dir=tmp_path, api_key=KEY), loaded(store))
    # no lifespan: its shutdown would close the store, which the store fixture owns
    yield TestClient(app), store


def get_routes(app: Any) -> list[Any]:
    """Every (method, path, dependant) the app serves, through included routers too."""
    found = []
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            if getattr(ctx, "methods", None) and getattr(ctx, "dependant", None) is not None:
                found.append(ctx)
    return found


def _query_names(dependant: Any) -> list[str]:
    names: list[str] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        names += [f.alias for f in current.query_params]
        stack.extend(current.dependencies)
    return sorted(set(names))


def _path(template: str, value: str | None) -> str:
    out = template
    for name, valid in VALID.items():
        for token in (f"{{{name}}}", f"{{{name}:path}}"):
            out = out.replace(token, quote(value if value is not None else valid, safe=""))
    return out


def _inert(response: Any) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:300])
    for leak in LEAKS:
        assert leak not in response.text, (response.request.url, leak)


# -- values through every GET route -------------------------------------------------------


def test_payloads_through_every_get_route_are_inert_and_values_round_trip(
    api: tuple[TestClient, GraphStore],
) -> None:
    client, store = api
    before = graph_state(store)
    tried = 0
    for ctx in get_routes(client.app):
        if "GET" not in ctx.methods or ctx.path.startswith(("/docs", "/redoc", "/openapi")):
            continue
        # every payload on the JSON routes; pages and views render the same answers, so two there
        values = PAYLOADS.values() if ctx.path.startswith("/api") else (CYPHER, PAYLOADS["long"])
        for value in values:
            if "{" in ctx.path:
                _inert(client.get(_path(ctx.path, value)))
                tried += 1
            for name in _query_names(ctx.dependant):
                _inert(client.get(_path(ctx.path, None), params={name: value}))
                tried += 1
    assert tried > 200
    assert graph_state(store) == before
    # and what the loaders stored comes back exactly
    entity = client.get("/api/entities/society:cypher").json()
    flat = repr(entity)
    for text in (
        CYPHER,
        '") MATCH (n) DETACH DELETE n //',
        "CALL dbms.killQueries([]) // }",
        "'; DROP TABLE societies; --",
    ):
        assert text in flat or text.replace("'", "\\'") in flat
    assert "society:cypher" in repr(client.get("/api/search", params={"q": CYPHER}).json())
    assert "`Society` name``with`backticks" in repr(client.get("/api/entities/society:ticks").json())


def test_html_is_shown_escaped_in_pages(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path), loaded(EmbeddedStore(None))))
    page = client.get("/entities/society:html")
    assert page.status_code == 200
    assert "<img src=x onerror" not in page.text
    assert "<script>alert(" not in page.text
    assert html.escape("<img src=x onerror=alert(1)>", quote=False) in page.text
    search = client.get("/search", params={"q": "<script>alert(1)</script>"})
    assert search.status_code < 500
    assert "<script>alert(1)</script>" not in search.text


# -- would-be identifiers through the loaders -----------------------------------------------

REL = "from,type,to,from_kind,to_kind,source,evidence,basis\n"
IDENTIFIERS = {
    "type-cypher": {
        "relationships.csv": REL
        + f'society:cmes,"SERVES]->() {CYPHER}",industry:wz:footwear,,,corpus,e,stated\n'
    },
    "type-backticks": {
        "relationships.csv": REL
        + "society:cmes,SERVES`]->(x) DETACH DELETE x //,industry:wz:footwear,,,corpus,e,stated\n"
    },
    "type-10k": {
        "relationships.csv": REL
        + "society:cmes,"
        + "S" * 10_000
        + ",industry:wz:footwear,,,corpus,e,stated\n"
    },
    "kind-cypher": {
        "relationships.csv": REL + "CMES,SERVES,鞋业,Society` DETACH DELETE n //,,corpus,e,stated\n"
    },
    "kind-comment": {"relationships.csv": REL + "CMES,SERVES,鞋业,,Industry/**/,corpus,e,stated\n"},
    "kind-in-manifest": {
        "dataset.toml": 'name = "x"\n[sources.corpus]\ntitle = "t"\n[files]\n"Society`:X" = "s.csv"\n',
        "s.csv": "id,name,source,basis\n",
    },
    "property-key": {
        "societies.csv": "id,name,`name` = 1 DETACH DELETE n //,source,basis\nsociety:x,X,1,corpus,stated\n"
    },
    "property-key-10k": {
        "societies.csv": "id,name," + "k" * 10_000 + ",source,basis\nsociety:x,X,1,corpus,stated\n"
    },
    "property-key-json": {
        "societies.json": '[{"id": "society:x", "name": "X", "source": "corpus", "basis": "stated", "n.admin": true}]'
    },
    "id-10k": {"societies.csv": "id,name,source,basis\nsociety:" + "a" * 10_000 + ",X,corpus,stated\n"},
    "id-cypher": {"societies.csv": f'id,name,source,basis\n"society:x\' {CYPHER}",X,corpus,stated\n'},
}


@pytest.mark.parametrize("case", list(IDENTIFIERS), ids=list(IDENTIFIERS))
def test_would_be_identifiers_are_refused_and_the_graph_is_unchanged(
    store: GraphStore, tmp_path: Path, case: str
) -> None:
    load_dataset(MINI, store)
    before = graph_state(store)
    with pytest.raises(DataError) as info:
        load_dataset(write_dataset(tmp_path / case, IDENTIFIERS[case]), store)
    assert all(leak not in info.value.message for leak in LEAKS)
    assert len(info.value.message) < 25_000  # a 10k identifier is named, not echoed without bound
    assert graph_state(store) == before


# -- CSV exports never start a formula ----------------------------------------------------------


def test_csv_export_neutralises_formula_starts_in_every_string_field(tmp_path: Path) -> None:
    starts = {"eq": "=1+1", "plus": "+86 577", "minus": "-2", "at": "@SUM(A1)"}
    rows = "".join(
        f"society:{slug},{text},{text},{text},{text},national,corpus,{text},stated\n"
        for slug, text in starts.items()
    )
    path = write_dataset(
        tmp_path / "formulas",
        {"societies.csv": "id,name,name_zh,aliases,description,level,source,evidence,basis\n" + rows},
    )
    store = EmbeddedStore(None)
    load_dataset(path, store)
    out = tmp_path / "export"
    export_graph(store, "csv", out)
    with open(out / "societies.csv", encoding="utf-8", newline="") as f:
        exported = list(csv.DictReader(f))
    assert len(exported) == 4
    for row in exported:
        for column in ("name", "name_zh", "aliases", "description", "evidence"):
            assert row[column][:1] not in "=+-@", (column, row[column])
    again = EmbeddedStore(None)
    load_dataset(out, again)  # and the marker is read back off: values round-trip
    assert [n.to_props() for n in again.iter_nodes()] == [n.to_props() for n in store.iter_nodes()]


# -- the auth matrix ---------------------------------------------------------------------------------


def test_every_write_route_needs_the_key_and_no_read_route_does(tmp_path: Path) -> None:
    store = loaded(EmbeddedStore(None))
    app = create_app(Settings(data_dir=tmp_path, api_key=KEY), store)
    before = graph_state(store)
    writes, reads = [], []
    with TestClient(app) as client:
        for ctx in get_routes(app):
            path = _path(ctx.path, None)
            for method in sorted(ctx.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    response = client.get(path)
                    assert response.status_code != 401, path
                    reads.append(path)
                    continue
                for headers in (
                    {},
                    {"X-API-Key": ""},
                    {"X-API-Key": "wrong"},
                    {"X-API-Key": KEY[:-1]},
                    {"X-API-Key": KEY + "x"},
                    {"X-API-Key": KEY.upper()},
                ):
                    response = client.request(method, path, headers=headers, files={"file": ("d.zip", b"x")})
                    assert response.status_code == 401, (method, path, headers, response.text)
                    assert response.json()["error"]["message"] == "missing or wrong X-API-Key header"
                    assert KEY not in response.text
                writes.append((method, path))
    assert ("POST", "/api/datasets") in writes
    assert len(reads) >= 25
    assert graph_state(store) == before


def test_no_write_route_exists_when_no_key_is_configured(tmp_path: Path) -> None:
    keyed = create_app(Settings(data_dir=tmp_path, api_key=KEY), EmbeddedStore(None))
    write_paths = {
        (method, ctx.path) for ctx in get_routes(keyed) for method in ctx.methods - {"GET", "HEAD", "OPTIONS"}
    }
    assert ("POST", "/api/datasets") in write_paths
    store = loaded(EmbeddedStore(None))
    before = graph_state(store)
    for blank in (None, ""):
        app = create_app(Settings(data_dir=tmp_path, api_key=blank), store)
        assert [
            (sorted(ctx.methods), ctx.path)
            for ctx in get_routes(app)
            if ctx.methods - {"GET", "HEAD", "OPTIONS"}
        ] == []
        schema = app.openapi()
        assert [(m, p) for p, ops in schema["paths"].items() for m in ops if m != "get"] == []
        with TestClient(app) as client:
            for method, path in sorted(write_paths):
                for headers in ({}, {"X-API-Key": KEY}, {"X-API-Key": ""}):
                    response = client.request(
                        method, _path(path, None), headers=headers, files={"file": ("d.zip", b"x")}
                    )
                    assert response.status_code == 404, (method, path, response.text)
                    assert response.json()["error"]["type"] == "NotFound"
    assert graph_state(store) == before
