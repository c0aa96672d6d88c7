"""The loader's fast path gives exactly what validating every row the usual way gives."""

from __future__ import annotations

import copy
import gc
import pickle
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared import MINI, write_dataset

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.errors import DataError
from graph_service.core.ontology import NODE_MODELS, NodeKind, Program, Relationship, RelType, provenance
from loaders.load import _CheckedRelationships, load_dataset, read_dataset
from loaders.records import node_columns, node_from_row
from loaders.tables import Table, _read_csv, read_table

PROVENANCE = provenance("corpus", "a clause", "stated")


def _validated(source: str, rel_type: RelType, target: str, fields: dict[str, object]) -> Relationship:
    return Relationship(source=source, type=rel_type, target=target, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        {"provenance": PROVENANCE},
        {"role": "chair", "provenance": PROVENANCE},
        {"since": "2021", "until": "2023-05-31", "provenance": PROVENANCE},
        {"role": "r" * 2000, "since": "2021-05", "until": "2022", "provenance": PROVENANCE},
    ],
)
def test_a_checked_relationship_is_indistinguishable_from_a_validated_one(fields: dict[str, object]) -> None:
    built = _CheckedRelationships().build("society:a", RelType.MEMBER_OF, "organization:b", fields)
    validated = _validated("society:a", RelType.MEMBER_OF, "organization:b", fields)
    assert built is not None
    assert built == validated
    assert hash(built) == hash(validated)
    assert repr(built) == repr(validated)
    assert list(built.__dict__.items()) == list(validated.__dict__.items())
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
    assert built.model_dump(exclude_unset=True) == validated.model_dump(exclude_unset=True)
    assert built.to_props() == validated.to_props()
    assert built.key == validated.key
    assert pickle.loads(pickle.dumps(built)) == validated
    assert copy.deepcopy(built) == validated
    assert built.model_copy(update={"role": "x"}) == validated.model_copy(update={"role": "x"})
    with pytest.raises(Exception, match="frozen"):
        built.role = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("source", "rel_type", "target", "fields"),
    [
        ("society:a", RelType.MEMBER_OF, "organization:b", {"role": "r" * 2001}),
        ("society:a", RelType.MEMBER_OF, "organization:b", {"role": " padded "}),
        ("society:a", RelType.MEMBER_OF, "organization:b", {"since": "2021-02-30"}),
        ("society:a", RelType.MEMBER_OF, "organization:b", {"until": "2021-13"}),
        ("society:a", RelType.MEMBER_OF, "organization:b", {"since": "spring"}),
        ("society:a", RelType.SERVES, "organization:b", {}),
        ("industry:a", RelType.PART_OF, "industry:a", {}),
        ("society:a", RelType.MEMBER_OF, "organization: b", {}),
        ("society:a", RelType.MEMBER_OF, "organization:b", {"colour": "red"}),
    ],
)
def test_anything_the_model_would_refuse_or_change_is_left_to_the_model(
    source: str, rel_type: RelType, target: str, fields: dict[str, object]
) -> None:
    fields = {**fields, "provenance": PROVENANCE}
    assert _CheckedRelationships().build(source, rel_type, target, fields) is None


def test_the_model_checks_nothing_the_fast_path_does_not() -> None:
    """A new validator or field on Relationship must be reflected in the loader's fast path."""
    decorators = Relationship.__pydantic_decorators__
    assert {name: d.info.fields for name, d in decorators.field_validators.items()} == {
        "_valid_id": ("source", "target")
    }
    assert not decorators.model_validators
    assert not decorators.validators
    assert not decorators.root_validators
    assert list(Relationship.model_fields) == [
        "provenance",
        "since",
        "until",
        "source",
        "type",
        "target",
        "role",
    ]


def test_every_loaded_relationship_equals_its_validated_self() -> None:
    parsed = read_dataset(MINI, EmbeddedStore(None))
    assert len(parsed.relationships) == 35
    for rel in parsed.relationships:
        again = Relationship.model_validate(rel.model_dump())
        assert rel == again
        assert list(rel.__dict__.items()) == list(again.__dict__.items())


def test_reading_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    assert gc.isenabled()
    read_dataset(MINI, EmbeddedStore(None))
    assert gc.isenabled()
    bad = write_dataset(
        tmp_path / "bad", {"societies.csv": "id,name,source,basis\nsociety:x,X,nowhere,stated\n"}
    )
    with pytest.raises(DataError):
        load_dataset(bad, EmbeddedStore(None))
    assert gc.isenabled()
    gc.disable()
    try:
        read_dataset(MINI, EmbeddedStore(None))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_text_markers_are_dropped_only_where_a_spreadsheet_puts_them(tmp_path: Path) -> None:
    path = tmp_path / "societies.csv"
    path.write_text(
        "id,name,description\nsociety:a,O'Brien Society,'=1+1\nsociety:b, '+86 ,'\nsociety:c,'x,' '@home' \n",
        encoding="utf-8",
    )
    assert [cells for _, cells in read_table(path).rows] == [
        {"id": "society:a", "name": "O'Brien Society", "description": "=1+1"},
        {"id": "society:b", "name": "+86", "description": "'"},
        {"id": "society:c", "name": "'x", "description": "' '@home'"},
    ]


# -- tables checked a column at a time ----------------------------------------------------

NODE_CELLS: dict[NodeKind, dict[str, list[str | None]]] = {
    NodeKind.SOCIETY: {
        "id": [
            None,
            "society:a",
            "society:a",
            "society:b c",
            "talent:a",
            "society:" + "x" * 300,
            "society:b",
        ],
        "name": [None, "A", "B", "n" * 301, "Same Name"],
        "aliases": [None, "x|y", " | ", "a|" + "z" * 301, "Same Name|SN"],
        "level": [None, "city", "galactic"],
        "since": [None, "2021", "2021-02-30", "spring"],
        "source": [None, "corpus", "elsewhere"],
        "evidence": [None, "a clause", "e" * 2001],
        "basis": [None, "stated", "guessed"],
    },
    NodeKind.PROGRAM: {
        "id": [None, "program:p", "program:q"],
        "name": ["P", "Q"],
        "participants": [None, "12", "-1", "many"],
        "targets": [None, "doctoral_station=100", '{"summit": 2}', "summit", "summit=-1"],
        "source": ["corpus"],
        "basis": ["stated", None],
    },
}


@settings(max_examples=40, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("kind", list(NODE_CELLS))
def test_a_table_checked_a_column_at_a_time_gives_the_nodes_its_rows_give(
    kind: NodeKind, data: st.DataObject
) -> None:
    pools = NODE_CELLS[kind]
    rows = data.draw(
        st.lists(
            st.fixed_dictionaries({c: st.sampled_from(v) for c, v in pools.items()}), min_size=1, max_size=8
        )
    )
    table = Table("t.csv", list(pools), rows=[(n, cells) for n, cells in enumerate(rows, start=2)])
    nodes, positions, by_row = node_columns(kind, table, {"corpus"})
    assert sorted(positions + by_row) == list(range(len(rows)))
    for node, i in zip(nodes, positions, strict=True):
        again, problems = node_from_row(kind, rows[i], "t.csv", i + 2, {"corpus"})
        assert again is not None, problems  # a row the columns pass, the row's own check passes
        assert node == again
        assert list(node.__dict__.items()) == list(again.__dict__.items())
        assert node.model_dump(mode="json") == again.model_dump(mode="json")
    programs = [n for n in nodes if isinstance(n, Program)]
    assert len({id(n.targets) for n in programs}) == len(programs)  # each program its own dict


def test_node_models_check_each_field_on_its_own() -> None:
    """The column-wise check relies on it: a model validator would see a whole row."""
    for model in NODE_MODELS.values():
        decorators = model.__pydantic_decorators__
        assert not decorators.model_validators
        assert not decorators.validators
        assert not decorators.root_validators


PLAIN_CELLS = st.text(alphabet="ab '=\t|\r", max_size=4)


@settings(max_examples=100, deadline=None)
@given(
    header=st.lists(
        st.sampled_from(["id", "name", "Source", " basis", "x", ""]), min_size=1, max_size=4, unique=True
    ),
    rows=st.lists(st.lists(PLAIN_CELLS, min_size=0, max_size=5), max_size=6),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    last=st.booleans(),
)
def test_a_csv_text_without_quotes_reads_as_the_csv_module_reads_it(
    header: list[str], rows: list[list[str]], ending: str, last: bool
) -> None:
    text = ending.join([",".join(header), *(",".join(r) for r in rows)]) + (ending if last else "")

    def read() -> tuple[object, ...]:
        try:
            table = _read_csv(text.encode(), "t.csv", None)
        except DataError as exc:
            return ("refused", exc.errors)
        return (table.columns, table.rows, table.errors)

    split = read()
    with patch("loaders.tables._split_plain", return_value=None):
        assert split == read()


def test_relationship_errors_come_in_the_order_a_row_by_row_reading_gives(tmp_path: Path) -> None:
    rows = [
        "society:a,SERVES,industry:x,",  # 2: good
        "society:a,SERVS,industry:x,",  # 3: unknown type
        "society:zzz,SERVES,industry:x,",  # 4: no such node
        "Society B,SERVES,industry:y,",  # 5: good, by name
        "society:a,SERVES,industry:x,",  # 6: repeats row 2
        "society:a,SERVES,organization:o,",  # 7: a pair the ontology refuses
        "society:b,MEMBER_OF,organization:o,2021-02-30",  # 8: no such date
        "industry:x,PART_OF,industry:y,",  # 9: a cycle with row 10
        "industry:y,PART_OF,industry:x,",  # 10
        "society:b,SERVES,industry:x,,",  # 11: no basis
        "industry:x,PART_OF,industry:x,",  # 12: a loop
        "society:b,serves,industry:x,2021",  # 13: good, type in any case
    ]
    files = {
        "societies.csv": "id,name,source,basis\nsociety:a,Society A,corpus,stated\nsociety:b,Society B,corpus,stated\n",
        "industries.csv": "id,name,taxonomy,source,basis\nindustry:x,X,t,corpus,stated\nindustry:y,Y,t,corpus,stated\n",
        "organizations.csv": "id,name,source,basis\norganization:o,O,corpus,stated\n",
        "relationships.csv": "from,type,to,since,source,basis\n"
        + "".join(r + (",corpus,stated\n" if r.count(",") == 3 else "corpus,\n") for r in rows),
    }
    parsed = read_dataset(write_dataset(tmp_path / "d", files), EmbeddedStore(None))
    assert [(e.row, e.column) for e in parsed.errors] == [
        (3, "type"),
        (11, "basis"),
        (4, "from"),
        (6, None),
        (7, "type"),
        (8, "since"),
        (12, "type"),
        (9, None),
        (10, None),
    ]
    assert "repeats the relationship of row 2" in parsed.errors[3].problem
    assert [r.key for r in parsed.relationships] == [
        ("society:a", "SERVES", "industry:x"),
        ("society:b", "SERVES", "industry:y"),
        ("society:b", "SERVES", "industry:x"),
    ]
    given = {"source", "type", "target", "provenance"}
    assert [r.model_fields_set for r in parsed.relationships] == [given, given, given | {"since"}]
    for rel in parsed.relationships:
        again = Relationship.model_validate(rel.model_dump())
        assert list(rel.__dict__.items()) == list(again.__dict__.items())
