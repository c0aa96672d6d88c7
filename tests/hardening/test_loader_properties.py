"""Property tests on the loaders: any row either loads or gets an error naming its file and row; nothing escapes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared import write_dataset

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.errors import DataError, PayloadTooLarge
from loaders.load import load_dataset

CELL = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "stated", "inferred", "reference", "corpus", "society:x", "2021-13", "=1+1", "'", '"']
    ),
)
COLUMNS = ["id", "name", "name_zh", "aliases", "level", "since", "source", "basis", "discipline"]
REL_COLUMNS = ["from", "type", "to", "since", "source", "basis"]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)), min_size=1, max_size=6),
    rels=st.lists(st.lists(CELL, min_size=len(REL_COLUMNS), max_size=len(REL_COLUMNS)), max_size=4),
)
def test_any_rows_load_or_fail_naming_file_and_row(
    tmp_path: Path, rows: list[list[str]], rels: list[list[str]]
) -> None:
    directory = tmp_path / f"case-{abs(hash((str(rows), str(rels))))}"
    files: dict[str, str | bytes] = {"societies.csv": _csv(COLUMNS, rows)}
    if rels:
        files["relationships.csv"] = _csv(REL_COLUMNS, rels)
    write_dataset(directory, files)
    store = EmbeddedStore(None)
    try:
        load_dataset(directory, store)
    except DataError as exc:
        assert exc.errors, "a refused load lists its problems"
        for error in exc.errors:
            assert error.file in ("societies.csv", "relationships.csv", "dataset.toml", str(directory)), error
            assert error.problem
        assert store.counts().total_nodes == 0, "a refused load writes nothing"
    except PayloadTooLarge:
        pass
    else:
        assert store.counts().total_nodes <= len(rows)
