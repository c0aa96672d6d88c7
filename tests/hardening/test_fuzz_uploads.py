"""A fuzz harness for ``POST /api/datasets``: malformed zips, workbooks, manifests, CSV and JSON.

Every generated upload must be answered without a 5xx, within a few seconds, and when it is refused
the graph must be exactly what it was. The suite runs ``INNOGRAPH_UPLOAD_FUZZ_EXAMPLES`` (default 70)
examples per kind of input, derandomized so that CI runs are repeatable; raise it for a long run:

    INNOGRAPH_UPLOAD_FUZZ_EXAMPLES=2000 pytest tests/hardening/test_fuzz_uploads.py -q
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from corpus import (
    MINI,
    graph_state,
    rezipped,
    sheet_xml,
    societies,
    societies_part,
    workbook_bytes,
    zipped,
)
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import load_dataset

KEY = "fuzz-key"
EXAMPLES = int(os.environ.get("INNOGRAPH_UPLOAD_FUZZ_EXAMPLES", "70"))
SECONDS = 5.0
"""The longest any one answer may take."""
MANIFEST = 'name = "fuzz"\n\n[sources.corpus]\ntitle = "corpus"\n'
SOCIETIES = "id,name,level,source,basis\nsociety:f1,F One,national,corpus,stated\nsociety:f2,F Two,city,corpus,inferred\n"
RELATIONSHIPS = (
    "from,type,to,source,evidence,basis\nsociety:f1,SERVES,industry:wz:footwear,corpus,e,inferred\n"
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


class Target:
    """The app over the mini dataset; each upload is checked against the rules of the harness."""

    def __init__(self, client: TestClient, app: Any) -> None:
        self.client = client
        self.app = app
        self.statuses: dict[int, int] = {}

    def upload(self, filename: str, body: bytes) -> int:
        before = graph_state(self.app.state.holder.get())
        started = time.monotonic()
        response = self.client.post(
            "/api/datasets",
            files={"file": (filename, body)},
            headers={"X-API-Key": KEY},
            params={"partial": "false"},
        )
        seconds = time.monotonic() - started
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (filename, response.text[:2000])
        assert seconds < SECONDS, (filename, seconds, response.text[:500])
        body_json = response.json()
        if response.status_code != 200:
            assert "error" in body_json and body_json["error"]["message"], response.text[:500]
            assert "Traceback" not in response.text
            assert graph_state(self.app.state.holder.get()) == before, (filename, response.text[:500])
        return response.status_code


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            Settings(
                data_dir=Path(tmp), api_key=KEY, max_upload_bytes=4_000_000, max_cells=200_000, load_timeout=4
            ),
            store,
        )
        with TestClient(app) as client:
            yield Target(client, app)


# -- mutations of bytes -----------------------------------------------------------------------------------

mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("field"), st.floats(0, 1), st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, 99, 9, 0x0801])),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(2, 50)),
)


def mutated(data: bytes, changes: list[tuple[str, float, Any]]) -> bytes:
    """``data`` with each change applied at its relative position: a bit flip, a cut, inserted bytes,
    a header-sized field overwritten, a stretch repeated."""
    out = bytearray(data)
    for kind, where, value in changes:
        if not out:
            break
        at = min(int(where * len(out)), len(out) - 1)
        if kind == "flip":
            out[at] ^= value
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out[at:at] = value
        elif kind == "field":
            width = 4 if value > 0xFFFF else 2
            out[at : at + width] = value.to_bytes(width, "little")
        elif kind == "repeat":
            out[at : at + 16] = bytes(out[at : at + 16]) * value
    return bytes(out)


def dataset_zip(**files: str | bytes) -> bytes:
    contents: dict[str, str | bytes] = {"fz/dataset.toml": MANIFEST, "fz/societies.csv": SOCIETIES}
    contents.update({f"fz/{name}": value for name, value in files.items()})
    return zipped(contents)


VALID_ZIP = dataset_zip(**{"relationships.csv": RELATIONSHIPS})
VALID_WORKBOOK = workbook_bytes(societies(3, "wb"))


@FUZZ
@given(changes=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_zips(target: Target, changes: list[tuple[str, float, Any]]) -> None:
    target.upload("d.zip", mutated(VALID_ZIP, changes))


@FUZZ
@given(changes=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_workbooks(target: Target, changes: list[tuple[str, float, Any]]) -> None:
    target.upload("d.xlsx", mutated(VALID_WORKBOOK, changes))


# -- mutations of a sheet's XML (valid zip, hostile content) -------------------------------------------------

xml_piece = st.sampled_from(
    [
        b"<row/>",
        b'<row r="1048576"/>',
        b'<row r="0">',
        b'<c r="XFD1"/>',
        b'<c r="A2" t="s"><v>7</v></c>',
        b'<c r="B2" t="n"><v>1e999</v></c>',
        b'<c r="B2" t="d"><v>not a date</v></c>',
        b'<c r="C2" t="b"><v>2</v></c>',
        b'<c r="C2"><f>SUM(A1:A9)</f></c>',
        b'<dimension ref="A1:XFD1048576"/>',
        b'<dimension ref="A1"/>',
        b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
        b"&a;",
        b"\x00",
        b"</sheetData>",
        b"<sheetData>",
        '<c r="A3" t="inlineStr"><is><t>电气\u202e</t></is></c>'.encode(),
    ]
)


@FUZZ
@given(
    pieces=st.lists(st.tuples(st.floats(0, 1), xml_piece), min_size=1, max_size=5),
    rows=st.integers(0, 3000),
)
def test_hostile_sheet_xml(target: Target, pieces: list[tuple[float, bytes]], rows: int) -> None:
    xml = bytearray(sheet_xml(VALID_WORKBOOK))
    for where, piece in pieces:
        at = int(where * len(xml))
        xml[at:at] = piece
    if rows:
        xml = bytearray(
            bytes(xml).replace(b"</sheetData>", b'<row r="9"><c r="A9"/></row>' * rows + b"</sheetData>", 1)
        )
    target.upload("d.xlsx", rezipped(VALID_WORKBOOK, {societies_part(VALID_WORKBOOK): bytes(xml)}))


# -- manifests, CSV and JSON ----------------------------------------------------------------------------------

toml_piece = st.sampled_from(
    [
        'name = "x"\n',
        "name = 1\n",
        "name = ''\n",
        "[files]\n",
        'Society = "societies.csv"\n',
        'Society = "../../etc/passwd"\n',
        'Society = "/etc/passwd"\n',
        'Society = "soc\\u0000.csv"\n',
        'relationships = "' + "r" * 300 + '.csv"\n',
        "[sources.corpus]\n",
        'title = "t"\n',
        "[sources.'bad key!']\n",
        "x = [[[[[[[[[[]]]]]]]]]]\n",
        "x = " + "[" * 600 + "]" * 600 + "\n",
        "y = {a = {b = {c = 1}}}\n",
        "[[files]]\n",
        '"\\ud800" = 1\n',
        "=\n",
        "\x00\n",
        '名称 = "温州"\n',
    ]
)


@FUZZ
@given(pieces=st.lists(toml_piece, min_size=1, max_size=8), extra=st.text(max_size=40))
def test_fuzzed_manifests(target: Target, pieces: list[str], extra: str) -> None:
    manifest = "".join(pieces) + extra
    target.upload(
        "d.zip",
        zipped({"fz/dataset.toml": manifest.encode("utf-8", "surrogatepass"), "fz/societies.csv": SOCIETIES}),
    )


csv_text = st.lists(
    st.sampled_from([*"abc,\"\n\r\t \x00\ufeff电气=+-@|:;'", "society:", "national", "corpus", "stated"]),
    max_size=200,
).map("".join)


@FUZZ
@given(
    header=st.sampled_from(
        ["id,name,level,source,basis\n", "", "id,id\n", "from,type,to,source,evidence,basis\n"]
    ),
    body=csv_text,
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_fuzzed_csv(target: Target, header: str, body: str, encoding: str) -> None:
    data = (header + body).encode(encoding, "replace")
    name = "relationships.csv" if header.startswith("from") else "societies.csv"
    target.upload("d.zip", zipped({"fz/dataset.toml": MANIFEST, f"fz/{name}": data}))


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.sampled_from(["society:j1", "national", "corpus", "stated", "SERVES"]),
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_row = st.fixed_dictionaries(
    {"id": st.sampled_from(["society:j1", "society:j2", "x", ""]), "name": json_value},
    optional={"level": json_value, "source": st.just("corpus"), "basis": json_value, "aliases": json_value},
)


@FUZZ
@given(
    doc=st.one_of(st.lists(json_row, max_size=5), json_value),
    raw=st.sampled_from(["", "9" * 5000, "1e999", "NaN", "-Infinity", "[" * 50, '"\\ud800"', "{}"]),
)
def test_fuzzed_json(target: Target, doc: Any, raw: str) -> None:
    text = json.dumps(doc)
    if raw:
        text = (
            text[:-1] + (", " if text.endswith("]") and text != "[]" else "") + raw + "]"
            if text.startswith("[")
            else raw
        )
    target.upload("d.zip", zipped({"fz/dataset.toml": MANIFEST, "fz/societies.json": text}))


def test_the_harness_saw_refusals_and_loads(target: Target) -> None:
    """Run last in this module: the generated uploads were neither all refused nor all loaded."""
    refused = sum(n for status, n in target.statuses.items() if 400 <= status < 500)
    assert refused >= EXAMPLES, target.statuses
    assert target.statuses.get(200, 0) >= 1, target.statuses
    assert set(target.statuses) <= {200, 400, 413, 422}, target.statuses
