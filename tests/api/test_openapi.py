"""The OpenAPI document tells the truth: it is valid, every route declares the errors it
answers with the error body it sends, and each declared 404 and 422 really happens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from graph_service.app.api.app import ErrorResponse, create_app
from graph_service.app.api.openapi import NAME_QUERY_PARAMETERS
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import WENZHOU_DATASET, load_dataset

KEY = "openapi-test-key"
UNKNOWN = "qqq-no-such-entity-zzz"
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app over the bundled Wenzhou data (the schema's examples name it), writes enabled."""
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), api_key=KEY)
    with TestClient(create_app(settings, store)) as c:
        yield c


@pytest.fixture(scope="module")
def schema(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def example(param: dict[str, Any]) -> Any:
    """The first example the document gives for a parameter."""
    if "example" in param:
        return param["example"]
    return next(iter(param["examples"].values()))["value"]


def takes_names(path: str, operation: dict[str, Any]) -> list[str]:
    """The parameters of an operation that hold a name or id."""
    return [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "path" or (p["in"] == "query" and p["name"] in NAME_QUERY_PARAMETERS)
    ]


def test_the_document_is_valid_openapi(schema: dict[str, Any]) -> None:
    validate(schema)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_every_error_response_is_the_error_model_with_a_valid_example(schema: dict[str, Any]) -> None:
    assert schema["components"]["schemas"]["ErrorResponse"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    for method, path, operation in operations(schema):
        errors = {c: r for c, r in operation["responses"].items() if c.startswith(("4", "5"))}
        assert {"422", "500", "503"} <= errors.keys(), f"{method} {path}"
        for code, response in errors.items():
            body = response["content"]["application/json"]
            assert body["schema"] == {"$ref": ERROR_REF}, f"{method} {path} {code}"
            ErrorResponse.model_validate(body["example"])
            assert response["description"]
        assert "Retry-After" in errors["503"]["headers"]


def test_routes_taking_names_declare_404_and_the_others_do_not(schema: dict[str, Any]) -> None:
    named = {f"{m.upper()} {p}" for m, p, op in operations(schema) if takes_names(p, op)}
    assert named >= {
        "GET /api/industries/{industry}/societies",
        "GET /api/societies/{society}/industries",
        "GET /api/industries/{industry}/recommendations",
        "GET /api/entities/{entity}",
        "GET /api/entities/{entity}/neighborhood",
        "GET /api/plans/{plan}/progress",
        "GET /api/paths",
        "GET /api/gaps",
        "GET /api/coverage",
    }
    for method, path, operation in operations(schema):
        declared = "404" in operation["responses"]
        assert declared == (f"{method.upper()} {path}" in named), f"{method} {path}"


def test_writes_declare_their_key_conflict_and_size_errors(schema: dict[str, Any]) -> None:
    upload = schema["paths"]["/api/datasets"]["post"]["responses"]
    assert {"400", "401", "409", "413", "422", "503"} <= upload.keys()


def _request(path: str, operation: dict[str, Any], unknown: str | None) -> tuple[str, dict[str, Any]]:
    """A request of an operation from the document's examples, with one parameter unknown."""
    query: dict[str, Any] = {}
    for param in operation.get("parameters", []):
        name = param["name"]
        if param["in"] == "path":
            value = UNKNOWN if name == unknown else example(param)
            path = path.replace("{" + name + "}", str(value))
        elif param["in"] == "query" and (param.get("required") or name == unknown):
            query[name] = UNKNOWN if name == unknown else example(param)
    return path, query


def test_each_name_a_route_takes_answers_404_with_suggestions_when_unknown(
    client: TestClient, schema: dict[str, Any]
) -> None:
    checked = 0
    for method, path, operation in operations(schema):
        for name in takes_names(path, operation):
            url, query = _request(path, operation, unknown=name)
            response = client.request(method, url, params=query)
            assert response.status_code == 404, f"{method} {url} {query}: {response.text}"
            body = ErrorResponse.model_validate(response.json())
            assert body.error.type == "NotFound"
            assert UNKNOWN in body.error.message
            checked += 1
    assert checked >= 10
    near = client.get("/api/industries/electrcal/societies").json()
    assert near["error"]["suggestions"], "a near name comes with suggestions"


def test_every_route_answers_422_to_a_parameter_it_does_not_know(
    client: TestClient, schema: dict[str, Any]
) -> None:
    for method, path, operation in operations(schema):
        if method != "get":
            continue
        url, query = _request(path, operation, unknown=None)
        response = client.get(url, params={**query, "limt": "5"})
        assert response.status_code == 422, f"{url}: {response.text}"
        assert "limt" in ErrorResponse.model_validate(response.json()).error.message


def test_an_upload_without_the_key_answers_the_declared_401(client: TestClient) -> None:
    response = client.post("/api/datasets", files={"file": ("city.zip", b"PK", "application/zip")})
    assert response.status_code == 401
    assert ErrorResponse.model_validate(response.json()).error.type == "Unauthorized"


def test_only_redoc_lets_a_blob_worker_run_and_its_script_fetches_nothing_outside(client: TestClient) -> None:
    redoc = client.get("/redoc")
    policy = redoc.headers["content-security-policy"]
    assert "worker-src 'self' blob:" in policy
    assert policy.count("script-src") == 1 and "'nonce-" in policy
    for other in ("/docs", "/", "/gaps"):
        assert "blob:" not in client.get(other).headers["content-security-policy"], other
    (script,) = re.findall(r'<script src="([^"]+)"', redoc.text)
    bundle = client.get(script)
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    assert "cdn.redoc.ly" not in bundle.text
