"""The empty workbook an analyst fills in: a sheet per kind, relationships, sources, and a README sheet."""

from __future__ import annotations

from pathlib import Path

from graph_service.core.ontology import ALLOWED_PAIRS, NODE_MODELS, NodeKind, RelType
from loaders.manifest import FILE_STEMS, RELATIONSHIPS
from loaders.records import COMMON_COLUMNS, RELATIONSHIP_COLUMNS, kind_columns

__all__ = ["COLUMN_HELP", "write_template"]

COLUMN_HELP: dict[str, str] = {
    "id": "Stable id 'kind:key' (e.g. society:cmes). Leave blank to derive it from the code, adcode or name.",
    "name": "English name, or the Chinese name when no English one is known. Required.",
    "name_zh": "Chinese name.",
    "aliases": "Other names and abbreviations, separated by |",
    "description": "Free text.",
    "since": "When it started: 2021, 2021-05 or 2021-05-31 (an agreement's signing date goes here).",
    "until": "When it ended, if it did; same formats.",
    "source": "Key of a document in the 'sources' sheet. Required.",
    "evidence": "The clause of the source that supports the row.",
    "basis": "stated (the source says it), inferred (you concluded it: say from what in evidence) or reference. Required.",
    "from": "Relationship start: an id, or an exact name, Chinese name or alias.",
    "to": "Relationship end: an id, or an exact name, Chinese name or alias.",
    "type": "One of " + ", ".join(RelType) + ".",
    "from_kind": "Optional: the kind of 'from', when a name is shared by several kinds.",
    "to_kind": "Optional: the kind of 'to', when a name is shared by several kinds.",
    "role": "Optional words qualifying the relationship (co-sponsor, runs).",
    "key": "The key rows cite in their 'source' column (letters, digits, . _ + -).",
    "title": "Title of the document, or a person's title (academician, expert, doctor) on the talents sheet.",
    "publisher": "Who published the document.",
    "date": "When it was published.",
    "location": "A path or an address where the document can be read.",
}
SOURCE_COLUMNS = ("key", "title", "publisher", "date", "location")


def write_template(path: Path) -> Path:
    """Write an empty workbook to fill and load with ``innograph load``.

    Example:
        >>> write_template(Path("ecosystem.xlsx"))  # doctest: +SKIP
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    readme = book.create_sheet("README")
    book.remove(book.worksheets[0])
    readme.append(["sheet", "column", "meaning"])
    bold = Font(bold=True)
    for kind in NodeKind:
        sheet = book.create_sheet(FILE_STEMS[kind])
        columns = kind_columns(kind)
        sheet.append(list(columns))
        model = NODE_MODELS[kind]
        for column in columns:
            text = COLUMN_HELP.get(column) if column in COMMON_COLUMNS else None
            if text is None:
                field = model.model_fields.get(column)
                text = (field.description if field is not None else None) or _choices(kind, column)
            readme.append([FILE_STEMS[kind], column, text])
    rel_sheet = book.create_sheet(RELATIONSHIPS)
    rel_sheet.append(list(RELATIONSHIP_COLUMNS))
    for column in RELATIONSHIP_COLUMNS:
        readme.append([RELATIONSHIPS, column, COLUMN_HELP[column]])
    for rel_type, pairs in ALLOWED_PAIRS.items():
        joined = ", ".join(sorted(f"{s} → {t}" for s, t in pairs))
        readme.append([RELATIONSHIPS, f"type {rel_type}", f"joins {joined}"])
    sources = book.create_sheet("sources")
    sources.append(list(SOURCE_COLUMNS))
    for column in SOURCE_COLUMNS:
        readme.append(["sources", column, COLUMN_HELP[column]])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
    readme.column_dimensions["C"].width = 100
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _choices(kind: NodeKind, column: str) -> str:
    annotation = NODE_MODELS[kind].model_fields[column].annotation
    args = getattr(annotation, "__args__", ())
    values = [a for a in args if isinstance(a, str)]
    return "One of: " + ", ".join(values) if values else ""
