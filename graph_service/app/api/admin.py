"""Service routes: health and counts; loading a dataset (registered only when an API key is configured)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as Path_
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from python_multipart.exceptions import MultipartParseError
from starlette.requests import ClientDisconnect

from graph_service.app.api.deps import (
    ApiKeyDep,
    HolderDep,
    LoadClaim,
    Loads,
    SettingsDep,
    StoreDep,
    StoreHolder,
)
from graph_service.core.errors import (
    BackendUnavailable,
    Busy,
    DataError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RowError,
)
from graph_service.core.settings import Settings
from graph_service.core.store import GraphCounts

__all__ = ["router", "sweep_stale_uploads", "write_router"]

SHOWN_REJECTIONS = 20
"""Rejections a partial load's answer lists; the rest are in its rejects file."""
UPLOAD_PREFIX = "innograph-upload-"
REJECTS_KEPT_SECONDS = 24 * 3600
"""How long a partial load's rejects file can be downloaded."""
MAX_PARTS = 8
"""Most parts a multipart upload may hold (one is the file; the rest are ignored form fields)."""
MAX_FIELD_BYTES = 4096
"""Largest form field beside the file."""
MULTIPART_SLACK = 64 * 1024
"""Bytes a multipart body may hold beyond the file itself (its boundaries and part headers)."""
_SAFE_STEM = re.compile(r"^[\w][\w .()\-]{0,99}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

router = APIRouter(tags=["service"])
write_router = APIRouter(tags=["service"])
"""Routes that change the graph: the app includes them only when INNOGRAPH_API_KEY is set."""


class Health(BaseModel):
    """Whether the service and its store answer."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(examples=["ok"])
    backend: str
    nodes: int
    relationships: int


class LoadResult(BaseModel):
    """What a dataset load did."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    backend: str
    rows_read: int = Field(description="Rows read from the dataset's files (blank rows aside).")
    seconds: float
    nodes: dict[str, dict[str, int]]
    relationships: dict[str, dict[str, int]]
    rejected_count: int = Field(description="How many problems a partial load rejected rows for.")
    rejected: list[str] = Field(description=f"The first {SHOWN_REJECTIONS} of them.")
    rejects_url: str | None = Field(
        default=None,
        description="Where to download every rejection as CSV (file, row, column, problem, cells).",
    )


@router.get(
    "/health", response_model=Health, responses={503: {"description": "The store cannot be reached."}}
)
def health(store: StoreDep) -> Health:
    """200 when the store answers (with its counts), 503 when it does not."""
    counts = store.counts()
    return Health(
        status="ok", backend=store.name, nodes=counts.total_nodes, relationships=counts.total_relationships
    )


@router.get("/stats", response_model=GraphCounts)
def stats(store: StoreDep) -> GraphCounts:
    """Node counts per kind and relationship counts per type."""
    return store.counts()


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A zipped dataset directory (.zip) or a workbook (.xlsx).",
                    }
                },
            }
        }
    },
}


@write_router.post(
    "/datasets",
    response_model=LoadResult,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={
        400: {"description": "The X-API-Key header sent more than once."},
        401: {"description": "No or wrong X-API-Key header."},
        413: {
            "description": "Upload over the size limit, an archive that unpacks too large, a workbook "
            "over its cell budget, or a load past its time limit."
        },
        422: {"description": "The dataset has bad rows or files; each is listed and nothing was written."},
        429: {"description": "Another upload is being loaded; try again after Retry-After seconds."},
    },
)
async def load_dataset_upload(
    _: ApiKeyDep,
    request: Request,
    settings: SettingsDep,
    holder: HolderDep,
    partial: Annotated[
        bool,
        Query(
            description="Write the good rows and report the rejected ones (`true`); all or nothing "
            "when left out.",
        ),
    ] = False,
) -> LoadResult:
    """Load a dataset into the graph: all-or-nothing unless `partial`. Needs the `X-API-Key` header.

    The key and the declared size are checked before the body is read; the body is streamed to
    disk under the size limit; the load runs on a thread of its own, one at a time, within
    `INNOGRAPH_LOAD_TIMEOUT` seconds. A partial load answers with its first rejections and a
    link to all of them as CSV.
    """
    loads: Loads = request.app.state.loads
    claim: LoadClaim | None = request.scope.get("innograph.load")
    if claim is None:  # reached without the gate (it is always installed; kept for safety)
        claim = loads.claim()
        if claim is None:
            raise Busy("another upload is being loaded; loads run one at a time: try again shortly")
    tmp = Path(tempfile.mkdtemp(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-"))
    try:
        upload = await _receive(request, tmp, settings.max_upload_bytes)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rejects = _rejects_dir(settings) / f"{secrets.token_urlsafe(24)}.csv" if partial else None
    # the loads' thread removes the folder (an unpacked dataset may be large): not the event loop
    result = await claim.run(loads, _load, holder, settings, upload, tmp, partial, rejects)
    if rejects is not None and rejects.exists():
        result.rejects_url = str(request.url_for("download_rejects", token=rejects.stem).path)
    return result


@write_router.get(
    "/datasets/rejects/{token}",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}, 404: {"description": "No such rejects file (kept 24 h)."}},
    name="download_rejects",
)
def download_rejects(
    settings: SettingsDep,
    token: Annotated[
        str,
        Path_(
            description="The token in a partial load's `rejects_url`.",
            openapi_examples={"a token": {"value": "3q2-7wEAAAB4mJ9k1n2xZP0tLr8uA5Qv"}},
        ),
    ],
) -> FileResponse:
    """Every row a partial load rejected, as CSV (file, row, column, problem, cells); the link is
    the one the load's answer gave, and works for 24 hours."""
    path = _rejects_dir(settings) / f"{token}.csv"
    if not _TOKEN.match(token) or not path.is_file():
        raise NotFound(
            f"no rejects file {token[:64]!r}; rejects files are kept for 24 hours after their load"
        )
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename="rejected-rows.csv",
        headers={"Cache-Control": "no-store"},
    )


async def _receive(request: Request, directory: Path, limit: int) -> Path:
    """Stream a multipart upload's file part to ``directory`` under ``limit`` bytes; return its path.

    Raises:
        PayloadTooLarge: the body runs past the limit (checked as it arrives, chunked or not).
        DataError / InvalidRequest: no file part, the wrong kind of file, or a malformed body.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequest(
            "file: Field required; send the dataset as multipart/form-data, in a form field named 'file'"
        )
    state = _Parts(directory, limit)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": state.begin,
            "on_header_field": state.header_field,
            "on_header_value": state.header_value,
            "on_header_end": state.header_end,
            "on_headers_finished": state.headers_finished,
            "on_part_data": state.data,
            "on_part_end": state.end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MULTIPART_SLACK:
                raise PayloadTooLarge(
                    f"the upload is over the limit of {limit:,} bytes; split the dataset, or raise "
                    "INNOGRAPH_MAX_UPLOAD_BYTES"
                )
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise InvalidRequest("the upload is not a well-formed multipart/form-data body") from None
    except ClientDisconnect:
        raise InvalidRequest("the client stopped sending the upload before its end") from None
    finally:
        state.close()
    if state.path is None or not state.complete:
        raise InvalidRequest("file: Field required (send the dataset in a form field named 'file')")
    return state.path


class _Parts:
    """The multipart parser's callbacks: the 'file' part goes to disk; other fields are skipped."""

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = directory
        self.limit = limit
        self.parts = 0
        self.path: Path | None = None
        self.complete = False
        self._out: Any = None
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._size = 0
        self._writing = False

    def begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise InvalidRequest(f"the upload holds more than {MAX_PARTS} parts; send the file alone")
        self._headers = {}
        self._size = 0

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]
        self._check_header()

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._field) + len(self._value) > MAX_FIELD_BYTES:
            raise InvalidRequest(f"a part header of the upload is longer than {MAX_FIELD_BYTES:,} bytes")

    def header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        field = options.get(b"name", b"").decode("latin-1")
        self._writing = field == "file" and self.path is None
        if not self._writing:
            return
        filename = options.get(b"filename", b"").decode("utf-8", "replace")
        suffix = PurePath(filename.replace("\\", "/")).suffix.lower()
        if suffix not in (".zip", ".xlsx"):
            raise DataError(
                [
                    RowError(
                        filename[:200] or "upload",
                        None,
                        None,
                        "upload a .zip of a dataset directory or an .xlsx workbook",
                    )
                ]
            )
        stem = PurePath(filename.replace("\\", "/")).stem
        if not _SAFE_STEM.match(stem):  # errors name the file as the planner sent it, when that is safe
            stem = "upload"
        self.path = self.directory / f"{stem}{suffix}"
        self._out = open(self.path, "wb")  # noqa: SIM115 - closed in end() or close()

    def data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._writing:
            if self._size > self.limit:
                raise PayloadTooLarge(
                    f"the upload is over the limit of {self.limit:,} bytes; split the dataset, or raise "
                    "INNOGRAPH_MAX_UPLOAD_BYTES"
                )
            self._out.write(data[start:end])
        elif self._size > MAX_FIELD_BYTES:
            raise InvalidRequest(f"a form field beside the file is longer than {MAX_FIELD_BYTES:,} bytes")

    def end(self) -> None:
        if self._writing:
            self._out.close()
            self._out = None
            self._writing = False
            self.complete = True

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def _load(
    holder: StoreHolder, settings: Settings, upload: Path, tmp: Path, partial: bool, rejects: Path | None
) -> LoadResult:
    """Unpack and load one upload, under its cell and time budget (on the loads' thread); then remove
    its temporary folder ``tmp``."""
    try:
        return _load_in(holder, settings, upload, tmp, partial, rejects)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load_in(
    holder: StoreHolder, settings: Settings, upload: Path, tmp: Path, partial: bool, rejects: Path | None
) -> LoadResult:
    from loaders.archive import unpack_dataset
    from loaders.load import load_dataset
    from loaders.tables import ReadBudget, reading_budget

    limits = ReadBudget(cells=settings.max_cells, seconds=settings.load_timeout)
    with reading_budget(limits):
        # a workbook gets the archive checks as the load opens it (once), as it would inside a zip
        source = (
            unpack_dataset(upload, tmp / "dataset", max_bytes=settings.max_file_bytes)
            if upload.suffix == ".zip"
            else upload
        )
        with holder.write_lock:
            current = holder.get()
            target = current.staging()  # a copy to swap in, or the store itself
            try:
                report = load_dataset(
                    source,
                    target,
                    partial=partial,
                    max_file_bytes=settings.max_file_bytes,
                    rejects_path=rejects,
                    progress=lambda stage, done, total: limits.check_time("the upload"),
                )
            except OSError as exc:
                raise BackendUnavailable(f"could not write the graph: {exc.strerror or exc}") from None
            if target is not current:
                limits.check_time("the upload")  # past its time: the clone is dropped, the graph unchanged
                holder.swap(target)
    doc = report.to_dict()
    return LoadResult(
        dataset=doc["dataset"],
        backend=doc["backend"],
        rows_read=doc["rows_read"],
        seconds=doc["seconds"],
        nodes=doc["nodes"],
        relationships=doc["relationships"],
        rejected_count=len(report.rejected),
        rejected=doc["rejected"][:SHOWN_REJECTIONS],
    )


def _rejects_dir(settings: Settings) -> Path:
    directory: Path = settings.data_dir / "rejects"
    return directory


def sweep_stale_uploads(settings: Settings) -> None:
    """Remove what uploads left behind: temporary folders of processes that are gone (killed
    mid-upload), and rejects files past their 24 hours."""
    now = time.time()
    for folder in Path(tempfile.gettempdir()).glob(f"{UPLOAD_PREFIX}*"):
        pid, dash, _ = folder.name.removeprefix(UPLOAD_PREFIX).partition("-")
        owned = bool(dash) and pid.isdigit()  # "<pid>-<random>"; other names are older servers'
        try:
            stale = not _alive(int(pid)) if owned else now - folder.stat().st_mtime > 3600
            if stale:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
    directory = _rejects_dir(settings)
    if directory.is_dir():
        for old in directory.glob("*.csv"):
            try:
                if now - old.stat().st_mtime > REJECTS_KEPT_SECONDS:
                    old.unlink()
            except OSError:
                continue


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
