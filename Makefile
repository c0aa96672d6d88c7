# The commands of the README, for people and CI alike.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-unit test-contract test-api test-browser lint bench neo4j clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: install, load the bundled Wenzhou data if the store is empty, and serve the API and pages
##      (make run HOST=0.0.0.0 PORT=8080 to listen elsewhere)
run: $(STAMP)
	$(BIN)/innograph serve --host $(HOST) --port $(PORT)

## test: install, fetch a real Neo4j if Java is here, and run the whole test suite
test: $(STAMP)
	$(BIN)/python scripts/test_deps.py
	$(BIN)/python -m pytest

## test-unit: the fast tests of single parts, the layer rules among them (no Neo4j, no browser)
test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -m "not neo4j and not browser"

## test-contract: the store primitives, the query catalog and the loaders on both backends (starts Neo4j)
test-contract: $(STAMP)
	$(BIN)/python scripts/test_deps.py
	$(BIN)/python -m pytest tests/contract

## test-api: the routes, the answer cache and the pages through the app (some on Neo4j too)
test-api: $(STAMP)
	$(BIN)/python scripts/test_deps.py
	$(BIN)/python -m pytest tests/api

## test-browser: the pages and views in a real headless Chromium
test-browser: $(STAMP)
	$(BIN)/python scripts/test_deps.py
	$(BIN)/python -m pytest tests/browser -m browser

## lint: ruff and mypy, as CI runs them
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: the benchmark suite (writes BENCHMARKS.md)
bench: $(STAMP)
	$(BIN)/python -m bench

## neo4j: start a local Neo4j for development (prints NEO4J_* settings to export)
neo4j: $(STAMP)
	$(BIN)/python scripts/neo4j_server.py run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
