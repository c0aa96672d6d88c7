"""Turning table rows into ontology records, with every problem located by file, row and column."""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from pydantic import ValidationError

from graph_service.errors import GraphServiceError, RowError
from graph_service.ontology import (
    NODE_MODELS,
    Node,
    NodeKind,
    RelType,
    make_id,
    provenance,
)
from loaders.tables import LIST_SEPARATOR

__all__ = [
    "COMMON_COLUMNS",
    "RELATIONSHIP_COLUMNS",
    "RawRelationship",
    "derive_id",
    "kind_columns",
    "node_from_row",
    "raw_relationship_from_row",
    "unknown_columns",
    "validation_errors",
]

Row = dict[str, str | None]

PROVENANCE_COLUMNS = ("source", "evidence", "basis")
COMMON_COLUMNS = (
    "id",
    "name",
    "name_zh",
    "aliases",
    "description",
    "since",
    "until",
    *PROVENANCE_COLUMNS,
)
"""Columns every node file may have."""
RELATIONSHIP_COLUMNS = (
    "from",
    "type",
    "to",
    "from_kind",
    "to_kind",
    "role",
    "since",
    "until",
    *PROVENANCE_COLUMNS,
)
"""Columns the relationships file may have."""
ALIAS_SEPARATOR = LIST_SEPARATOR


def kind_columns(kind: NodeKind) -> tuple[str, ...]:
    """The columns a node file of this kind may have: the common ones, then the kind's own."""
    own = [f for f in NODE_MODELS[kind].model_fields if f not in COMMON_COLUMNS and f != "provenance"]
    return (*COMMON_COLUMNS, *own)


def unknown_columns(
    columns: Collection[str], allowed: Collection[str], file: str, what: str
) -> list[RowError]:
    """An error for each column a file has but its kind does not."""
    return [
        RowError(file, 1, column, f"is not a column of {what}; allowed: {', '.join(allowed)}")
        for column in columns
        if column not in allowed
    ]


def node_from_row(
    kind: NodeKind, row: Row, file: str, row_no: int, sources: Collection[str]
) -> tuple[Node | None, list[RowError]]:
    """Validate one node row; the node, or ``None`` and the row's problems."""
    errors = _provenance_errors(row, file, row_no, sources)
    data: dict[str, object] = {k: v for k, v in row.items() if v is not None and k not in PROVENANCE_COLUMNS}
    if "aliases" in data:
        data["aliases"] = tuple(a.strip() for a in str(data["aliases"]).split(ALIAS_SEPARATOR) if a.strip())
    if not data.get("id"):
        try:
            data["id"] = derive_id(kind, row)
        except GraphServiceError as exc:
            errors.append(RowError(file, row_no, "id", f"is blank and {exc.message}"))
    if errors:
        return None, errors
    try:
        data["provenance"] = provenance(row["source"] or "", row.get("evidence") or "", row["basis"] or "")
        return NODE_MODELS[kind].model_validate(data), []
    except ValidationError as exc:
        return None, validation_errors(exc, file, row_no)


class RawRelationship(NamedTuple):
    """A relationship row whose endpoints are not yet resolved to ids."""

    file: str
    row: int
    source_ref: str
    source_kind: NodeKind | None
    type: RelType
    target_ref: str
    target_kind: NodeKind | None
    fields: dict[str, object]


_REL_TYPES: dict[str, RelType] = {t.value: t for t in RelType}
_KINDS: dict[str, NodeKind] = {k.value.lower(): k for k in NodeKind}


def _rel_type(cell: str) -> RelType | None:
    """The type a ``type`` cell names (any case, spaces around), or ``None``."""
    return _REL_TYPES.get(cell) or _REL_TYPES.get(cell.strip().upper())


def raw_relationship_from_row(
    row: Row, file: str, row_no: int, sources: Collection[str]
) -> tuple[RawRelationship | None, list[RowError]]:
    """Check a relationship row's own cells; endpoint names are resolved later."""
    get = row.get
    source, basis, source_ref, target_ref = get("source"), get("basis"), get("from"), get("to")
    type_cell, from_kind, to_kind = get("type"), get("from_kind"), get("to_kind")
    rel_type = _rel_type(type_cell) if type_cell else None
    source_kind = _KINDS.get(from_kind.lower()) if from_kind else None
    target_kind = _KINDS.get(to_kind.lower()) if to_kind else None
    if not (
        source
        and source in sources
        and basis
        and source_ref
        and target_ref
        and rel_type is not None
        and (source_kind is not None or not from_kind)
        and (target_kind is not None or not to_kind)
    ):
        return None, _raw_relationship_errors(row, file, row_no, sources)
    fields: dict[str, object] = {}
    role, since, until = get("role"), get("since"), get("until")
    if role:
        fields["role"] = role
    if since:
        fields["since"] = since
    if until:
        fields["until"] = until
    try:
        fields["provenance"] = provenance(source, get("evidence") or "", basis)
    except ValidationError as exc:
        return None, validation_errors(exc, file, row_no)
    return (
        RawRelationship(file, row_no, source_ref, source_kind, rel_type, target_ref, target_kind, fields),
        [],
    )


def _raw_relationship_errors(row: Row, file: str, row_no: int, sources: Collection[str]) -> list[RowError]:
    """Every problem of a relationship row's own cells, in column order."""
    errors = _provenance_errors(row, file, row_no, sources)
    for column in ("from", "type", "to"):
        if not row.get(column):
            errors.append(RowError(file, row_no, column, "is required"))
    type_cell = row.get("type")
    if type_cell and _rel_type(type_cell) is None:
        errors.append(
            RowError(
                file,
                row_no,
                "type",
                f"{type_cell!r} is not a relationship type; known: {', '.join(RelType)}",
            )
        )
    for column in ("from_kind", "to_kind"):
        value = row.get(column)
        if value and value.lower() not in _KINDS:
            errors.append(
                RowError(
                    file,
                    row_no,
                    column,
                    f"{value!r} is not a kind; known: {', '.join(NodeKind)}",
                )
            )
    return errors


def validation_errors(
    exc: ValidationError, file: str, row_no: int, rename: dict[str, str] | None = None
) -> list[RowError]:
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        column = loc[-1] if loc and loc[0] == "provenance" else (loc[0] if loc else None)
        if rename and column in rename:
            column = rename[column]
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if error["type"] == "literal_error":
            message = f"{error['input']!r} is not allowed; {message[0].lower()}{message[1:]}"
        elif error["type"] == "string_too_long":
            message = f"is {len(str(error['input'])):,} characters long; {message[0].lower()}{message[1:]}"
        elif error["type"] == "string_pattern_mismatch" and column in ("since", "until"):
            message = f"{error['input']!r} is not a date; write 2021, 2021-05 or 2021-05-31"
        elif error["type"] == "extra_forbidden":
            message = "is not a column of this kind"
        out.append(RowError(file, row_no, column, message))
    return out


def _provenance_errors(row: Row, file: str, row_no: int, sources: Collection[str]) -> list[RowError]:
    errors = []
    if not row.get("source"):
        errors.append(
            RowError(file, row_no, "source", "is required: the key of a source document in the manifest")
        )
    elif row["source"] not in sources:
        known = ", ".join(sorted(sources)) or "none declared"
        errors.append(
            RowError(
                file,
                row_no,
                "source",
                f"{row['source']!r} is not a source in the manifest (known: {known})",
            )
        )
    if not row.get("basis"):
        errors.append(RowError(file, row_no, "basis", "is required: stated, inferred or reference"))
    return errors


def derive_id(kind: NodeKind, row: Row) -> str:
    """The id of a row whose ``id`` cell is blank: from the code, adcode or name.

    Raises:
        InvalidRequest: when the row has none of them.
    """
    if kind is NodeKind.INDUSTRY and row.get("code") and row.get("taxonomy"):
        return make_id(kind, str(row["taxonomy"]), str(row["code"]))
    if kind is NodeKind.REGION and row.get("adcode"):
        return make_id(kind, str(row["adcode"]))
    name = row.get("name") or row.get("name_zh")
    if not name:
        return make_id(kind)  # raises: no key
    return make_id(kind, name)
