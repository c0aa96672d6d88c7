"""Turning table rows into ontology records, with every problem located by file, row and column."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from typing import Any, NamedTuple, cast

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from graph_service.core.errors import GraphServiceError, RowError
from graph_service.core.ontology import (
    NODE_MODELS,
    Node,
    NodeKind,
    Provenance,
    RelType,
    assemble_nodes,
    column_adapter,
    ids_of_kind,
    make_id,
    provenance,
    shareable,
)
from loaders.tables import LIST_SEPARATOR, Table

__all__ = [
    "COMMON_COLUMNS",
    "RELATIONSHIP_COLUMNS",
    "RawRelationship",
    "derive_id",
    "distinct_rows",
    "kind_columns",
    "kind_named",
    "node_columns",
    "node_from_row",
    "provenance_column",
    "raw_relationship_from_row",
    "rel_type_of",
    "rows_holding",
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
        data["aliases"] = _aliases(str(data["aliases"]))
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


def distinct_rows(*columns: list[Any]) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The distinct combinations of values the rows of some columns hold, and the index of each
    row's combination among them: work done per combination is then done once, however many
    rows repeat it."""
    size = len(columns[0])
    if not size:
        return [], []
    if all(column.count(column[0]) == size for column in columns):  # one combination throughout
        return [tuple(column[0] for column in columns)], [0] * size
    index = {key: i for i, key in enumerate(dict.fromkeys(zip(*columns, strict=True)))}
    return list(index), list(map(index.__getitem__, zip(*columns, strict=True)))


def provenance_column(table: Table, sources: Collection[str]) -> tuple[list[Provenance | None], list[int]]:
    """The provenance of each distinct (source, evidence, basis) of a table's rows, ``None`` where
    a row's provenance cells are wrong (:func:`node_from_row` and :func:`raw_relationship_from_row`
    say how), and the index of each row's among them."""
    keys, index = distinct_rows(table.column("source"), table.column("evidence"), table.column("basis"))
    made: list[Provenance | None] = []
    for source, evidence, basis in keys:
        prov = None
        if source and source in sources and basis:
            with contextlib.suppress(ValidationError):
                prov = provenance(source, evidence or "", basis)
        made.append(prov)
    return made, index


def rows_holding(column: list[Any], values: Collection[Any]) -> list[int]:
    """The positions of the rows whose value in a column is one of ``values``."""
    wanted = frozenset(values)
    if wanted.isdisjoint(column):
        return []
    return [i for i, value in enumerate(column) if value in wanted]


def node_columns(
    kind: NodeKind, table: Table, sources: Collection[str]
) -> tuple[list[Node], list[int], list[int]]:
    """The nodes of a table's rows, checked a column at a time, as :func:`node_from_row` checks them a
    row at a time.

    Each column goes through the validator of its field in one call, as the kind's model
    runs it (:func:`column_adapter`; the ids of a column by one regular expression, the
    provenance once per distinct source, evidence and basis), and the nodes are assembled
    from the checked columns (:func:`assemble_nodes`).
    A node model checks each field on its own (no model validators; a unit test holds it to
    that), so a row whose every cell passes gives the node that validating the row gives. A
    row with a blank id (its id is derived), an id the model writes otherwise (an upper-case or
    full-width spelling) or any cell its field refuses is left to :func:`node_from_row`, which
    says what is wrong with it or gives the node with its canonical id.

    Returns:
        the nodes, the position of each one's row in the table, and the positions of the rows
        left to :func:`node_from_row`, each in table order.
    """
    size = len(table)
    model = NODE_MODELS[kind]
    suspects: set[int] = set()
    provs, prov_index = provenance_column(table, sources)
    suspects.update(rows_holding(prov_index, {i for i, p in enumerate(provs) if p is None}))
    columns: list[list[Any]] = []
    for name in model.model_fields:
        if name == "provenance":
            columns.append(list(map(provs.__getitem__, prov_index)))
            continue
        cells = table.column(name)
        if name == "id":
            suspects.update(rows_holding(cells, {None}))
            distinct_ids = set(cells)
            distinct_ids.discard(None)
            ids = cast(list[str], list(distinct_ids))
            if not ids_of_kind(kind, ids):  # some id is wrong or not canonical: the model's own check says
                checked, wrong = _checked(column_adapter(kind, name), ids)
                good = [i for at, i in enumerate(ids) if at not in wrong]
                changed = {i for i, c in zip(good, checked, strict=True) if i != c}  # Society:X → society:x
                suspects.update(rows_holding(cells, {ids[at] for at in wrong} | changed))
            columns.append(cells)
            continue
        column, refused = _field_column(kind, name, cells)
        suspects.update(refused)
        columns.append(column)
    if not suspects:
        return assemble_nodes(model, columns), list(range(size)), []
    keep = [i for i in range(size) if i not in suspects]
    nodes = assemble_nodes(model, [[column[i] for i in keep] for column in columns])
    return nodes, keep, sorted(suspects)


def _field_column(kind: NodeKind, name: str, cells: list[str | None]) -> tuple[list[Any], list[int]]:
    """A field's values for every row (its default for a blank cell), and the rows whose cell it refuses.

    The cells go through the field's validator in one call (a list validated in pydantic-core,
    each item as the model validates the field: separately, so each node owns its value); a
    column of one value throughout is validated once.
    """
    info = NODE_MODELS[kind].model_fields[name]
    size = len(cells)
    blanks = cells.count(None)
    refused: list[int] = []
    if blanks and info.is_required():
        refused = rows_holding(cells, {None})
    if blanks == size:
        return _defaults(info, size), refused
    rows = range(size) if not blanks else [i for i, cell in enumerate(cells) if cell is not None]
    given: list[Any] = cells if not blanks else [cells[i] for i in rows]
    if name == "aliases":
        given = list(map(_aliases, given))
    adapter = column_adapter(kind, name)
    if not blanks and cells.count(cells[0]) == size:  # one value throughout
        checked, bad = _checked(adapter, given[:1])
        if not bad and shareable(checked[0]):
            return checked * size, refused
    checked, bad = _checked(adapter, given)
    if not blanks and not bad:
        return checked, refused
    out = _defaults(info, size)
    good = [rows[at] for at in range(len(rows)) if at not in bad] if bad else rows
    for i, value in zip(good, checked, strict=True):
        out[i] = value
    refused += [rows[at] for at in sorted(bad)]
    return out, refused


def _checked(adapter: TypeAdapter[list[Any]], values: list[Any]) -> tuple[list[Any], set[int]]:
    """The values that pass a column validator, checked, and the positions of those that do not."""
    try:
        return adapter.validate_python(values), set()
    except ValidationError as exc:
        bad = {cast(int, error["loc"][0]) for error in exc.errors() if error["loc"]}
    return adapter.validate_python([v for at, v in enumerate(values) if at not in bad]), bad


def _defaults(info: FieldInfo, size: int) -> list[Any]:
    """A field's default for each of ``size`` rows: one shared value, or a new one each from the
    field's factory (an empty dict of targets), as validating each row gives."""
    if info.default_factory is None:
        return [info.default] * size
    make = cast(Callable[[], Any], info.default_factory)
    if info.default_factory_takes_validated_data:  # not in this ontology
        raise TypeError(f"the default of {info} needs the other fields")
    return [make() for _ in range(size)]


def _aliases(cell: str) -> tuple[str, ...]:
    """The aliases a cell lists, as :func:`node_from_row` splits them."""
    return tuple(a.strip() for a in cell.split(ALIAS_SEPARATOR) if a.strip())


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


def kind_named(cell: str) -> NodeKind | None:
    """The kind a ``from_kind`` or ``to_kind`` cell names (any case), or ``None``."""
    return _KINDS.get(cell.lower())


def rel_type_of(cell: str) -> RelType | None:
    """The type a ``type`` cell names (any case, spaces around), or ``None``."""
    return _REL_TYPES.get(cell) or _REL_TYPES.get(cell.strip().upper())


def raw_relationship_from_row(
    row: Row, file: str, row_no: int, sources: Collection[str]
) -> tuple[RawRelationship | None, list[RowError]]:
    """Check a relationship row's own cells; endpoint names are resolved later."""
    get = row.get
    source, basis, source_ref, target_ref = get("source"), get("basis"), get("from"), get("to")
    type_cell, from_kind, to_kind = get("type"), get("from_kind"), get("to_kind")
    rel_type = rel_type_of(type_cell) if type_cell else None
    source_kind = kind_named(from_kind) if from_kind else None
    target_kind = kind_named(to_kind) if to_kind else None
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
    if type_cell and rel_type_of(type_cell) is None:
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
