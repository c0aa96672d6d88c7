"""Finding things through the API, over the bundled Wenzhou data: search as a planner types it,
names several entities answer to, unknown taxonomies, and Swagger's "Try it out" answering as
the pages do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from loaders.load import WENZHOU_DATASET, load_dataset

FIVE = "industry:wenzhou-5-5:"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    with TestClient(create_app(store=store)) as test_client:
        yield test_client


def error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["type"] == kind
    return body


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["node"]["id"] for hit in response.json()["results"]]


def test_search_finds_what_planners_type(client: TestClient) -> None:
    assert ids(client.get("/api/search", params={"q": "auto parts"}))[0] == FIVE + "auto-parts"
    assert ids(client.get("/api/search", params={"q": "pumps valves"}))[0] == FIVE + "pumps-valves"
    slip = client.get("/api/search", params={"q": "电器"}).json()["results"][0]
    assert (slip["node"]["id"], slip["corrected"]) == (FIVE + "electrical", "电气")
    jixie = ids(client.get("/api/search", params={"q": "jixie", "kinds": "Society"}))
    assert jixie.index("society:cmes") < jixie.index("society:cast-e-12")  # 机械 before 设计协会


def test_the_questions_take_names_as_typed(client: TestClient) -> None:
    for typed, key in [("电器", "electrical"), ("motorcycle parts", "auto-parts"), ("鞋", "footwear")]:
        answer = client.get(f"/api/industries/{quote(typed)}/societies")
        assert answer.status_code == 200, (typed, answer.text)
        assert answer.json()["industry"]["id"] == FIVE + key


@pytest.mark.parametrize("typed", ["intelligent", "智能"])
def test_a_name_several_industries_answer_to_is_404_with_them_ranked(client: TestClient, typed: str) -> None:
    body = error(client.get(f"/api/industries/{quote(typed)}/societies"), 404, "Ambiguous")
    assert repr(typed) in body["message"]
    assert (
        body["suggestions"][0] == f"{FIVE}intelligent-equipment (Intelligent equipment · 智能装备 · Industry)"
    )
    assert any(s.startswith(f"{FIVE}nev-icv ") for s in body["suggestions"])


@pytest.mark.parametrize("route", ["/api/gaps", "/api/coverage"])
def test_an_unknown_taxonomy_is_404_naming_those_there_are(client: TestClient, route: str) -> None:
    body = error(client.get(route, params={"taxonomy": "nope"}), 404, "NotFound")
    assert "'nope'" in body["message"]
    assert sorted(body["suggestions"]) == ["gbt4754", "local", "wenzhou-5+5"]
    # "+" written plainly in a URL is a space: the error says which was meant
    body = error(client.get(f"{route}?taxonomy=wenzhou-5+5"), 404, "NotFound")
    assert body["suggestions"][0] == "wenzhou-5+5"
    assert client.get(route, params={"taxonomy": "wenzhou-5+5"}).status_code == 200


def test_swagger_try_it_out_fills_in_no_filter(client: TestClient) -> None:
    """Swagger UI fills a parameter in with its example (or first of its examples), and with its
    default: an optional query parameter's only pre-filled value may be its default, which
    changes nothing."""
    schema = client.get("/openapi.json").json()
    optional = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query" or parameter.get("required"):
                    continue
                optional += 1
                where = f"{method.upper()} {path} ?{parameter['name']}"
                default = parameter["schema"].get("default")
                filled = [
                    *(e.get("value") for e in parameter.get("examples", {}).values()),
                    *([parameter["example"]] if "example" in parameter else []),
                    *parameter["schema"].get("examples", []),
                    *([parameter["schema"]["example"]] if "example" in parameter["schema"] else []),
                ]
                assert all(value == default for value in filled), (where, filled, default)
    assert optional >= 40  # channels, as_of, region, level, kinds, types, limits … of every route
