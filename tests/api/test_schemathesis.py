"""Property-based fuzzing of every route against the app's own OpenAPI schema: no input may give a 5xx.

The app serves the mini dataset from an embedded store. Every request carries the
configured API key, so the upload route is fuzzed past its key check too (random
bytes are never a valid dataset, so the graph stays as it is).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from graph_service.api.app import create_app
from graph_service.embedded import EmbeddedStore
from graph_service.settings import Settings
from loaders.load import load_dataset

MINI = Path(__file__).resolve().parent.parent / "data" / "mini"
KEY = "fuzz-key"


def _app() -> object:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    return create_app(Settings(data_dir=Path(tempfile.gettempdir()) / "innograph-fuzz", api_key=KEY), store)


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_gives_a_server_error(case: schemathesis.Case) -> None:
    response = case.call_and_validate(headers={"X-API-Key": KEY}, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
