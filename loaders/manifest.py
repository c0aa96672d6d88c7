"""The dataset manifest (``dataset.toml``): name, source documents, and which file holds which kind."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph_service.core.errors import DataError, RowError
from graph_service.core.ontology import NodeKind
from loaders.tables import SUPPORTED_SUFFIXES

__all__ = ["FILE_STEMS", "MANIFEST_NAME", "Manifest", "SourceDocument", "read_manifest"]

MANIFEST_NAME = "dataset.toml"
RELATIONSHIPS = "relationships"

FILE_STEMS: dict[str, str] = {
    NodeKind.SOCIETY: "societies",
    NodeKind.TALENT: "talents",
    NodeKind.ENTERPRISE: "enterprises",
    NodeKind.PARK: "parks",
    NodeKind.INDUSTRY: "industries",
    NodeKind.AGREEMENT: "agreements",
    NodeKind.REGION: "regions",
    NodeKind.ORGANIZATION: "organizations",
    NodeKind.PROGRAM: "programs",
    RELATIONSHIPS: RELATIONSHIPS,
}
"""The conventional file (or sheet) name of each kind, and of the relationships."""

_SOURCE_KEY = r"^[A-Za-z0-9][A-Za-z0-9_.+\-]{0,79}$"


class SourceDocument(BaseModel):
    """A document that rows cite by its key in their ``source`` column."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    publisher: str | None = Field(default=None, max_length=300)
    date: str | None = Field(default=None, max_length=40)
    location: str | None = Field(default=None, max_length=2000, description="A path or an address.")


class Manifest(BaseModel):
    """What a dataset is and where its files are."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    sources: dict[str, SourceDocument] = Field(default_factory=dict)
    files: dict[str, str] = Field(
        default_factory=dict, description="Kind (or 'relationships') → file name in the directory."
    )


def read_manifest(directory: Path) -> tuple[Manifest, dict[str, Path]]:
    """Read ``dataset.toml`` and find the data files of a dataset directory.

    Returns:
        The manifest and, for each kind present (and ``relationships``), its file.

    Raises:
        DataError: naming the manifest and what is wrong with it.
    """
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise DataError(
            [
                RowError(
                    str(directory),
                    None,
                    None,
                    f"has no {MANIFEST_NAME}; see docs/dataset-format.md",
                )
            ]
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError([RowError(MANIFEST_NAME, None, None, f"is not valid TOML: {exc}")]) from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise DataError(
            [RowError(MANIFEST_NAME, None, None, "nests arrays or tables too deeply; a manifest is flat")]
        ) from None
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise DataError(
            [
                RowError(MANIFEST_NAME, None, ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in exc.errors()
            ]
        ) from None
    problems = [
        RowError(
            MANIFEST_NAME,
            None,
            f"sources.{key}",
            "source keys use letters, digits, '.', '_', '+', '-'",
        )
        for key in manifest.sources
        if not re.match(_SOURCE_KEY, key)
    ]
    files: dict[str, Path] = {}
    known = {str(k) for k in FILE_STEMS}
    if manifest.files:
        for key, filename in manifest.files.items():
            if key not in known:
                problems.append(
                    RowError(
                        MANIFEST_NAME,
                        None,
                        f"files.{key}",
                        f"unknown kind; known: {', '.join(sorted(known))}",
                    )
                )
                continue
            if (
                not filename.strip()
                or any(ord(c) < 32 or c == "\x7f" for c in filename)
                or any(len(part.encode("utf-8")) > 255 for part in filename.replace("\\", "/").split("/"))
            ):
                problems.append(
                    RowError(
                        MANIFEST_NAME,
                        None,
                        f"files.{key}",
                        "must be a file name: not empty, no control characters (such as NUL), "
                        "at most 255 bytes per name",
                    )
                )
                continue
            candidate = (directory / filename).resolve()
            if directory.resolve() not in candidate.parents:
                problems.append(
                    RowError(
                        MANIFEST_NAME,
                        None,
                        f"files.{key}",
                        "must name a file inside the dataset directory",
                    )
                )
            elif not candidate.is_file():
                problems.append(
                    RowError(MANIFEST_NAME, None, f"files.{key}", f"file {filename!r} does not exist")
                )
            elif candidate.suffix.lower() not in SUPPORTED_SUFFIXES:
                problems.append(
                    RowError(MANIFEST_NAME, None, f"files.{key}", "use a .csv, .xlsx or .json file")
                )
            else:
                files[key] = candidate
    else:
        for key, stem in FILE_STEMS.items():
            found = [
                directory / f"{stem}{suffix}"
                for suffix in SUPPORTED_SUFFIXES
                if (directory / f"{stem}{suffix}").is_file()
            ]
            if len(found) > 1:
                problems.append(
                    RowError(
                        str(directory),
                        None,
                        None,
                        f"has both {found[0].name} and {found[1].name}; keep one",
                    )
                )
            elif found:
                files[str(key)] = found[0]
    if problems:
        raise DataError(problems)
    if not files:
        raise DataError(
            [RowError(str(directory), None, None, "holds no data files; see docs/dataset-format.md")]
        )
    return manifest, files
