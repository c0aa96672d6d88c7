"""The loader's fast path gives exactly what validating every row the usual way gives."""

from __future__ import annotations

import copy
import gc
import pickle
from pathlib import Path

import pytest
from shared import MINI, write_dataset

from graph_service.embedded import EmbeddedStore
from graph_service.errors import DataError
from graph_service.ontology import Relationship, RelType, provenance
from loaders.load import _CheckedRelationships, load_dataset, read_dataset
from loaders.tables import read_table

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
