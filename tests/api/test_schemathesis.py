"""Property-based fuzzing of every route against the app's own OpenAPI schema: no input may give a 5xx.

Every status a route answers must be one the schema declares for it.

The app serves the bundled Wenzhou dataset (the one the schema's examples name, so the
example phase reaches real answers), from an embedded store and from a real Neo4j. It opens
its store from its settings, as a deployed server does: the fuzzer ends the app's
lifespan after each route, and the next route's requests reopen the same graph (the
embedded snapshot, the Neo4j database). Every request carries the configured API key,
so the upload route is fuzzed past its key check too (random bytes are never a valid
dataset, so the graph stays as it is).

The budget is ``INNOGRAPH_FUZZ_EXAMPLES`` examples per route and phase (25 by default).
A long run:

    INNOGRAPH_FUZZ_EXAMPLES=500 pytest tests/api/test_schemathesis.py -q

or ``python scripts/fuzz_api.py --examples 500``, which also prints what was sent. With
``INNOGRAPH_FUZZ_REPORT=file.json`` a run writes its requests per route and status there.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Neo4jSettings, Settings
from loaders.load import WENZHOU_DATASET, load_dataset

KEY = "fuzz-key"


def _budget() -> int:
    text = os.environ.get("INNOGRAPH_FUZZ_EXAMPLES", "25")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"INNOGRAPH_FUZZ_EXAMPLES must be a whole number above 0, not {text!r}")
    return int(text)


EXAMPLES = _budget()
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SENT: Counter[tuple[str, str, int]] = Counter()
"""Requests sent: (backend, route, status) -> how many."""


def _embedded_app() -> tuple[Any, int]:
    """The app over an embedded snapshot of the dataset, in a directory of its own; and its node count."""
    data_dir = Path(tempfile.mkdtemp(prefix="innograph-fuzz-"))
    atexit.register(shutil.rmtree, data_dir, True)
    config = Settings(data_dir=data_dir, api_key=KEY)
    store = EmbeddedStore(config.snapshot_path)
    load_dataset(WENZHOU_DATASET, store)
    store.persist()
    return create_app(config), store.counts().total_nodes


EMBEDDED_APP, NODES = _embedded_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", EMBEDDED_APP)


@pytest.fixture(scope="module")
def neo4j_app(neo4j_settings: Neo4jSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The same app over the same dataset held in a real Neo4j."""
    from graph_service.backends.neo4j.store import Neo4jStore

    loader = Neo4jStore(neo4j_settings)
    try:
        loader.clear()
        load_dataset(WENZHOU_DATASET, loader)
        config = Settings(
            data_dir=tmp_path_factory.mktemp("fuzz-neo4j"), backend="neo4j", neo4j=neo4j_settings, api_key=KEY
        )
        yield create_app(config)
        loader.clear()
    finally:
        loader.close()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """Write what was sent to ``INNOGRAPH_FUZZ_REPORT`` when it is set."""
    yield
    target = os.environ.get("INNOGRAPH_FUZZ_REPORT")
    if target:
        rows = [
            {"backend": backend, "route": route, "status": status, "requests": n}
            for (backend, route, status), n in sorted(SENT.items())
        ]
        Path(target).write_text(json.dumps({"examples": EXAMPLES, "sent": rows}, indent=1))


def _check(case: schemathesis.Case, backend: str, **call: Any) -> None:
    headers = {"X-API-Key": KEY}
    route = f"{case.method.upper()} {case.path}"
    try:
        response = case.call(headers=headers, **call)
    except Exception:  # an unhandled error reaches the caller in-process: the client would get a 500
        SENT[(backend, route, 500)] += 1
        raise
    SENT[(backend, route, response.status_code)] += 1
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance], headers=headers, transport_kwargs=call
    )
    assert response.status_code < 500, response.text
    if case.path == "/api/health" and response.status_code == 200:
        assert response.json()["nodes"] == NODES, "the fuzzed app must serve the loaded graph"


@schema.parametrize()
@FUZZ
def test_no_input_gives_a_server_error(case: schemathesis.Case) -> None:
    _check(case, "embedded")


@pytest.mark.neo4j
@schema.parametrize()
@FUZZ
def test_no_input_gives_a_server_error_on_neo4j(case: schemathesis.Case, neo4j_app: Any) -> None:
    _check(case, "neo4j", app=neo4j_app)
