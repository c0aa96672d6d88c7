"""Malformed archives, manifests and files: each a 4xx naming the problem, never a 500, the graph unchanged."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Callable, Iterator
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
    zip_with_bad_crc,
    zip_with_headers,
    zipped,
)
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import load_dataset

KEY = "malformed-key"
MANIFEST = 'name = "d"\n\n[sources.corpus]\ntitle = "corpus"\n'
SOCIETIES = "id,name,level,source,basis\nsociety:m1,M One,national,corpus,stated\n"


@pytest.fixture(scope="module")
def client() -> Iterator[tuple[TestClient, Any]]:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), api_key=KEY, max_cells=100_000), store)
        with TestClient(app) as test_client:
            yield test_client, app


def dataset(**extra: bytes | str) -> dict[str, bytes]:
    files: dict[str, bytes | str] = {"d/dataset.toml": MANIFEST, "d/societies.csv": SOCIETIES, **extra}
    return {
        name: content.encode() if isinstance(content, str) else content for name, content in files.items()
    }


def with_manifest(text: str) -> bytes:
    return zipped({"d/dataset.toml": text, "d/societies.csv": SOCIETIES})


def _sheet_replaced(old: bytes, new: bytes) -> bytes:
    data = workbook_bytes(societies(2))
    part = societies_part(data)
    return rezipped(data, {part: sheet_xml(data).replace(old, new)})


def _truncated_zip() -> bytes:
    data = zipped(dataset())
    return data[: len(data) // 2]


def _sheet_missing() -> bytes:
    data = workbook_bytes(societies(2))
    return rezipped(data, {societies_part(data): None})


def _stored_then_unstored_size() -> bytes:
    """A zip whose directory claims an entry smaller than its data (a lying size)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in dataset().items():
            zf.writestr(name, content)
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (3).to_bytes(4, "little")  # uncompressed size of the last entry
    return bytes(data)


def _twice() -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns of the name written twice, which is the point
        for name, content in dataset().items():
            zf.writestr(name, content)
        zf.writestr("d/societies.csv", SOCIETIES)
    return buffer.getvalue()


def _encrypted_workbook() -> bytes:
    data = workbook_bytes(societies(1))
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {info.filename: source.read(info) for info in source.infolist()}
    return zip_with_headers(parts, "xl/workbook.xml", flag=0x1)


CASES: list[tuple[str, str, Callable[[], bytes], int, str]] = [
    # the list an attacker found, each a 500 before
    (
        "entry-name-over-255-bytes",
        "d.zip",
        lambda: zipped(dataset(**{"d/" + "n" * 300 + ".csv": "x"})),
        422,
        "name too long",
    ),
    ("entry-name-empty", "d.zip", lambda: zipped({"": "x", **dataset()}), 422, "empty name"),
    (
        "file-and-folder-one-name",
        "d.zip",
        lambda: zipped(dataset(**{"d/x": "a", "d/x/y.csv": "b"})),
        422,
        "both a file and a folder",
    ),
    (
        "bad-crc",
        "d.zip",
        lambda: zip_with_bad_crc(dataset(), "d/societies.csv"),
        422,
        "checksum (CRC) does not match",
    ),
    (
        "encryption-flag",
        "d.zip",
        lambda: zip_with_headers(dataset(), "d/societies.csv", flag=0x1),
        422,
        "is encrypted",
    ),
    (
        "compression-method-99",
        "d.zip",
        lambda: zip_with_headers(dataset(), "d/societies.csv", method=99),
        422,
        "compression method 99",
    ),
    (
        "manifest-nested-3000-deep",
        "d.zip",
        lambda: with_manifest(MANIFEST + "x = " + "[" * 3000 + "]" * 3000 + "\n"),
        422,
        "nests arrays or tables too deeply",
    ),
    (
        "manifest-nul-in-files-path",
        "d.zip",
        lambda: with_manifest(MANIFEST + '\n[files]\nSociety = "soc\\u0000ieties.csv"\n'),
        422,
        "control characters (such as NUL)",
    ),
    (
        "json-number-5000-digits",
        "d.zip",
        lambda: zipped(
            {
                "d/dataset.toml": MANIFEST,
                "d/societies.json": '[{"id": "society:j", "name": "J", "level": "national", "source": "corpus", "basis": "stated", "cast_code": '
                + "9" * 5000
                + "}]",
            }
        ),
        422,
        "number that cannot be read",
    ),
    # beyond it
    (
        "entry-name-control-character",
        "d.zip",
        lambda: zipped(dataset(**{"d/a\x01b.csv": "x"})),
        422,
        "control character",
    ),
    ("entry-twice", "d.zip", _twice, 422, "appears twice"),
    (
        "compression-method-deflate64",
        "d.zip",
        lambda: zip_with_headers(dataset(), "d/societies.csv", method=9),
        422,
        "compression method 9",
    ),
    ("encrypted-workbook-part", "d.xlsx", lambda: _encrypted_workbook(), 422, "is encrypted"),
    ("zip-cut-in-half", "d.zip", _truncated_zip, 422, "is not a readable zip archive"),
    ("entry-size-lies", "d.zip", _stored_then_unstored_size, 422, "cannot be unpacked"),
    (
        "manifest-name-over-255-bytes",
        "d.zip",
        lambda: with_manifest(MANIFEST + '\n[files]\nSociety = "' + "s" * 300 + '.csv"\n'),
        422,
        "at most 255 bytes",
    ),
    (
        "manifest-not-utf8",
        "d.zip",
        lambda: zipped({"d/dataset.toml": b'name = "\xff\xfe"\n', "d/societies.csv": SOCIETIES}),
        422,
        "is not valid TOML",
    ),
    (
        "manifest-nested-tables-3000",
        "d.zip",
        lambda: with_manifest(MANIFEST + "y = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"),
        422,
        "too deeply",
    ),
    (
        "json-nested-3000",
        "d.zip",
        lambda: zipped({"d/dataset.toml": MANIFEST, "d/societies.json": "[" * 3000 + "]" * 3000}),
        422,
        "nests deeper",
    ),
    (
        "json-float-overflow",
        "d.zip",
        lambda: zipped(
            {
                "d/dataset.toml": MANIFEST,
                "d/societies.json": '[{"id": "society:f", "name": 1e999, "level": "national", "source": "corpus", "basis": "stated"}]',
            }
        ),
        422,
        "the number 1e999 is too large",
    ),
    (
        "csv-nul-byte",
        "d.zip",
        lambda: zipped(
            dataset(**{"d/societies.csv": SOCIETIES + "society:z,Z\x00,national,corpus,stated\n"})
        ),
        422,
        "NUL byte",
    ),
    (
        "sheet-xml-broken",
        "d.xlsx",
        lambda: _sheet_replaced(b"</sheetData>", b"<row"),
        422,
        "not a readable XLSX",
    ),
    ("sheet-part-missing", "d.xlsx", _sheet_missing, 422, "sheet 'societies' has no content in the file"),
    (
        "cell-index-out-of-grid",
        "d.xlsx",
        lambda: _sheet_replaced(b'r="A2"', b'r="A99999999"'),
        422,
        "outside a sheet's grid",
    ),
    (
        "shared-string-index-out-of-range",
        "d.xlsx",
        lambda: _sheet_replaced(
            b'<c r="E2" t="inlineStr"><is><t>stated</t></is></c>', b'<c r="E2" t="s"><v>9999</v></c>'
        ),
        422,
        "",
    ),
]


@pytest.mark.parametrize(
    ("case", "filename", "build", "status", "fragment"), CASES, ids=[c[0] for c in CASES]
)
def test_a_malformed_upload_is_a_4xx_naming_the_problem(
    client: tuple[TestClient, Any],
    case: str,
    filename: str,
    build: Callable[[], bytes],
    status: int,
    fragment: str,
) -> None:
    test_client, app = client
    before = graph_state(app.state.holder.get())
    response = test_client.post(
        "/api/datasets", files={"file": (filename, build())}, headers={"X-API-Key": KEY}
    )
    body = response.json()
    assert 400 <= response.status_code < 500, (case, response.text)
    if fragment:
        assert response.status_code == status, (case, response.text)
        assert fragment in body["error"]["message"], (case, body)
    assert "Traceback" not in json.dumps(body)
    assert len(response.content) < 30_000
    assert graph_state(app.state.holder.get()) == before


def test_the_same_archive_checks_hold_for_a_dataset_directory_s_workbook(tmp_path: Path) -> None:
    """A workbook inside a dataset directory (as `innograph load` reads it) gets the checks an upload gets."""
    from graph_service.core.errors import GraphServiceError

    directory = tmp_path / "d"
    directory.mkdir()
    (directory / "dataset.toml").write_text(MANIFEST)
    (directory / "societies.xlsx").write_bytes(_encrypted_workbook())
    with pytest.raises(GraphServiceError) as caught:
        load_dataset(directory, EmbeddedStore(None))
    assert caught.value.status_code == 422
    assert "is encrypted" in caught.value.message
