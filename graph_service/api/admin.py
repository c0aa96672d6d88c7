"""Service routes: health and counts; loading a dataset (registered only when an API key is configured)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from graph_service.api.deps import ApiKeyDep, HolderDep, SettingsDep, StoreDep
from graph_service.errors import BackendUnavailable, DataError, PayloadTooLarge, RowError
from graph_service.store import GraphCounts

__all__ = ["router", "write_router"]

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
    rows_read: int
    seconds: float
    nodes: dict[str, dict[str, int]]
    relationships: dict[str, dict[str, int]]
    rejected: list[str]


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


@write_router.post(
    "/datasets",
    response_model=LoadResult,
    responses={
        401: {"description": "No or wrong X-API-Key header."},
        413: {"description": "Upload over the size limit, or an archive that unpacks too large."},
        422: {"description": "The dataset has bad rows; each is listed and nothing was written."},
    },
)
async def load_dataset_upload(
    _: ApiKeyDep,
    settings: SettingsDep,
    holder: HolderDep,
    file: Annotated[UploadFile, File(description="A zipped dataset directory (.zip) or a workbook (.xlsx).")],
    partial: Annotated[
        bool,
        Query(
            description="Write the good rows and report the rejected ones.",
            openapi_examples={"all or nothing": {"value": False}},
        ),
    ] = False,
) -> LoadResult:
    """Load a dataset into the graph: all-or-nothing unless `partial`. Needs the `X-API-Key` header."""
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".zip", ".xlsx"):
        raise DataError(
            [
                RowError(
                    file.filename or "upload",
                    None,
                    None,
                    "upload a .zip of a dataset directory or an .xlsx workbook",
                )
            ]
        )
    with tempfile.TemporaryDirectory(prefix="innograph-upload-") as tmp:
        upload = Path(tmp) / f"upload{suffix}"
        size = 0
        with open(upload, "wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise PayloadTooLarge(
                        f"the upload is over the limit of {settings.max_upload_bytes:,} bytes"
                    )
                out.write(chunk)
        return await run_in_threadpool(_load, holder, settings, upload, Path(tmp), partial)


def _load(holder: Any, settings: Any, upload: Path, tmp: Path, partial: bool) -> LoadResult:
    from graph_service.embedded import EmbeddedStore
    from loaders.archive import check_workbook, unpack_dataset
    from loaders.load import load_dataset

    if upload.suffix == ".zip":
        source = unpack_dataset(upload, tmp / "dataset", max_bytes=settings.max_file_bytes)
    else:
        check_workbook(upload, max_bytes=settings.max_file_bytes)
        source = upload
    with holder.write_lock:
        current = holder.get()
        target = current.clone() if isinstance(current, EmbeddedStore) else current
        try:
            report = load_dataset(source, target, partial=partial, max_file_bytes=settings.max_file_bytes)
        except OSError as exc:
            raise BackendUnavailable(f"could not write the graph: {exc.strerror or exc}") from None
        if target is not current:
            holder.swap(target)
    doc = report.to_dict()
    return LoadResult(
        dataset=doc["dataset"],
        backend=doc["backend"],
        rows_read=doc["rows_read"],
        seconds=doc["seconds"],
        nodes=doc["nodes"],
        relationships=doc["relationships"],
        rejected=doc["rejected"],
    )
