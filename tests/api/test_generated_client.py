"""A client generated from the live OpenAPI document, as a planner's IT colleague would make one.

openapi-python-client writes a Python client from ``/openapi.json``; every GET operation is
then called on the bundled Wenzhou data, once with names that exist and once with a name
that does not, and every answer must parse into the generated models: the 200s into the
answer's model, the 404s into the error model the document declares.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import WENZHOU_DATASET, load_dataset

KNOWN: dict[str, str] = {
    "industry": "industry:wenzhou-5-5:electrical",
    "society": "society:cmes",
    "entity": "society:cmes",
    "plan": "program:wenzhou-three-year-action-plan-2021-2023",
    "source": "society:csae",
    "target": "industry:wenzhou-5-5:electrical",
    "start": "2021",
    "end": "2021-12",
    "q": "CMES",
}
"""A value for each required parameter of the GET routes, taken from the bundled data."""
NAMES = ("industry", "society", "entity", "plan", "source", "target")
"""Parameters that name an entity: an unknown one must come back as the declared 404."""
UNKNOWN = "qqq-no-such-entity-zzz"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    directory = tmp_path_factory.mktemp("generated-client")
    store = EmbeddedStore(Settings(data_dir=directory).snapshot_path)
    load_dataset(WENZHOU_DATASET, store)
    store.close()
    with TestClient(create_app(Settings(data_dir=directory)), base_url="http://innograph.test") as client:
        yield client


@pytest.fixture(scope="module")
def generated(app_client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client openapi-python-client generates from the live document, imported."""
    where = tmp_path_factory.mktemp("client")
    schema = where / "openapi.json"
    schema.write_text(json.dumps(app_client.get("/openapi.json").json()), encoding="utf-8")
    tool = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(tool),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(where / "wz_client"),
            "--meta",
            "none",
        ],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("wz_client")
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == "wz_client" or m.startswith("wz_client.")]:
            del sys.modules[name]
        shutil.rmtree(where, ignore_errors=True)


def operations(package: ModuleType) -> list[ModuleType]:
    """Every generated operation module (one per route)."""
    api = importlib.import_module(f"{package.__name__}.api")
    found = []
    for group in pkgutil.iter_modules(api.__path__):
        tag = importlib.import_module(f"{api.__name__}.{group.name}")
        for op in pkgutil.iter_modules(tag.__path__):
            found.append(importlib.import_module(f"{tag.__name__}.{op.name}"))
    return found


def required(module: ModuleType) -> list[str]:
    signature = inspect.signature(module.sync_detailed)
    return [
        name
        for name, p in signature.parameters.items()
        if name != "client" and p.default is inspect.Parameter.empty
    ]


SCOPE = {"taxonomy": "wenzhou-5+5"}
"""What the scope of the gaps and coverage questions must say (they answer 422 to no scope)."""


def call(module: ModuleType, client: Any, values: dict[str, str]) -> Any:
    given = {name: values[name] for name in required(module)}
    given |= {k: v for k, v in SCOPE.items() if k in inspect.signature(module.sync_detailed).parameters}
    return module.sync_detailed(client=client, **given)


def test_every_get_route_answers_into_the_generated_models(
    app_client: TestClient, generated: ModuleType
) -> None:
    client = generated.Client(base_url="http://innograph.test")
    client.set_httpx_client(app_client)
    models = importlib.import_module(f"{generated.__name__}.models")
    modules = operations(generated)
    assert len(modules) >= 16
    checked_404 = 0
    for module in modules:
        answer = call(module, client, KNOWN)
        assert answer.status_code == 200, f"{module.__name__}: {answer.content[:300]!r}"
        if answer.headers.get("content-type", "").startswith("application/json"):
            assert answer.parsed is not None, module.__name__
            assert not isinstance(answer.parsed, models.ErrorResponse), module.__name__
        names = [n for n in required(module) if n in NAMES]
        if names:
            missing = call(module, client, {**KNOWN, names[0]: UNKNOWN})
            assert missing.status_code == 404, f"{module.__name__}: {missing.content[:300]!r}"
            assert isinstance(missing.parsed, models.ErrorResponse), module.__name__
            assert UNKNOWN in missing.parsed.error.message
            checked_404 += 1
    assert checked_404 >= 7


def test_a_near_name_comes_back_with_suggestions_in_the_generated_error_model(
    app_client: TestClient, generated: ModuleType
) -> None:
    client = generated.Client(base_url="http://innograph.test")
    client.set_httpx_client(app_client)
    serving = importlib.import_module(
        f"{generated.__name__}.api.questions.get_societies_serving_api_industries_industry_societies_get"
    )
    answer = serving.sync_detailed("electrcal equipment", client=client)
    assert answer.status_code == 404
    assert answer.parsed.error.type_ == "NotFound"
    assert any("industry:wenzhou-5-5:electrical" in s for s in answer.parsed.error.suggestions)
    found = serving.sync_detailed("电气", client=client)
    assert found.parsed.industry.id == "industry:wenzhou-5-5:electrical"
    assert found.parsed.total >= 3
